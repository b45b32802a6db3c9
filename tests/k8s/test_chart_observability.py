"""The chart's tracing and lineage values: the OTEL_* and OPENLINEAGE_* env of every step."""

from collections.abc import Callable

import pytest

from tests.k8s.helpers import HelmRun

OBSERVED = "ci/observability-values.yaml"


def _step_templates(docs: list[dict]) -> list[dict]:
    return [
        tpl
        for d in docs
        if d["kind"] == "WorkflowTemplate"
        for tpl in d["spec"]["templates"]
        if "container" in tpl
    ]


def test_every_step_gets_the_tracing_and_lineage_environment(
    render: Callable[..., list[dict]],
) -> None:
    templates = _step_templates(render(OBSERVED))
    assert templates
    for tpl in templates:
        env = tpl["container"]["env"]
        added = [e for e in env if e["name"].startswith(("OTEL_", "OPENLINEAGE_", "FERRY_ATTEMPT"))]
        expected = [
            {
                "name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                "value": "http://otel-collector.observability:4318",
            },
            {"name": "OTEL_SERVICE_NAME", "value": "ferry-prod"},
            {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"},
            {"name": "OTEL_TRACES_SAMPLER_ARG", "value": "0.25"},
            {"name": "OPENLINEAGE_URL", "value": "http://marquez.lineage:5000"},
            {"name": "OPENLINEAGE_NAMESPACE", "value": "analytics"},
            {
                "name": "OPENLINEAGE_API_KEY",
                "valueFrom": {"secretKeyRef": {"name": "marquez-api-key", "key": "api-key"}},
            },
        ]
        if "retryStrategy" in tpl:
            expected.append({"name": "FERRY_ATTEMPT", "value": "{{retries}}"})
        assert added == expected, tpl["name"]
        assert env[: len(env) - len(added)] == [e for e in env if e not in added]


def test_default_values_add_no_tracing_or_lineage_variable(
    render: Callable[..., list[dict]],
) -> None:
    for tpl in _step_templates(render("values.yaml")):
        names = {e["name"] for e in tpl["container"].get("env", [])}
        assert not {n for n in names if n.startswith(("OTEL_", "OPENLINEAGE_", "FERRY_ATTEMPT"))}


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (
            "tracing.otlpEndpoint=otel:4318",
            "at '/tracing/otlpEndpoint': 'otel:4318' does not match pattern '^(|https?://.+)$'",
        ),
        (
            "tracing.env.SAMPLER=always_on",
            "'SAMPLER' does not match pattern '^OTEL_[A-Z0-9_]+$'",
        ),
        (
            "lineage.url=marquez:5000",
            "at '/lineage/url': 'marquez:5000' does not match pattern '^(|https?://.+)$'",
        ),
    ],
)
def test_bad_observability_values_are_refused(
    run_helm: HelmRun, chart: object, sets: str, message: str
) -> None:
    result = run_helm("template", "t", str(chart), "--set", "image.repository=r/x", "--set", sets)
    assert result.returncode != 0
    assert message in result.stderr
