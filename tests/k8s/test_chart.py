"""The Helm chart, rendered by the real helm: lint, Argo conformance, Kubernetes
schemas, security defaults, values applied, Argo expressions untouched, bad values
rejected with their exact message."""

import base64
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SHARED
from tests.k8s.helpers import CHART, RENDERED, SCENARIOS, TEST_IMAGE, HelmRun, image_sets

ARGO_EXPR = re.compile(r"\{\{.*?\}\}")
CORE_KINDS = {
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "Deployment",
    "PersistentVolumeClaim",
    "Job",
}
PIPELINES = sorted(p.name for p in RENDERED.iterdir() if (p / "workflowtemplate.yaml").is_file())


def _of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _step_containers(wt: dict) -> list[dict]:
    return [t["container"] for t in wt["spec"]["templates"] if "container" in t]


def _pod_specs(docs: list[dict]) -> Iterator[tuple[str, dict, list[dict]]]:
    """(where, pod-level spec, containers) of every pod the release can start."""
    for d in docs:
        name = f"{d['kind']}/{d['metadata']['name']}"
        if d["kind"] in ("Deployment", "Job"):
            spec = d["spec"]["template"]["spec"]
            yield name, spec, spec["containers"]
        elif d["kind"] == "WorkflowTemplate":
            yield name, d["spec"], _step_containers(d)


def test_pipelines_are_rendered_and_all_in_the_default_values() -> None:
    assert PIPELINES == [
        "customer-quality",
        "orders-api",
        "orders-by-segment",
        "orders-daily",
        "orders-partitioned",
        "orders-pseudonymized",
    ]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert sorted(values["pipelines"]) == PIPELINES


def test_chart_files_are_in_sync_with_rendered_pipelines() -> None:
    for name in PIPELINES:
        for file_name in ("workflowtemplate.yaml", "cronworkflow.yaml", "eventbinding.yaml"):
            source = RENDERED / name / file_name
            copy = CHART / "files" / "pipelines" / name / file_name
            assert copy.is_file() == source.is_file(), f"{copy}: run `make chart-sync`"
            if source.is_file():
                assert copy.read_bytes() == source.read_bytes(), (
                    f"{copy} is stale: run `make chart-sync`"
                )


@pytest.mark.parametrize("values", SCENARIOS)
def test_helm_lint_strict(run_helm: HelmRun, chart: Path, values: str) -> None:
    result = run_helm(
        "lint", "--strict", str(chart), "-f", str(chart / values), *image_sets(chart, [values])
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", SCENARIOS)
def test_argo_documents_conform_to_the_crds(
    render: Callable[..., list[dict]], values: str, tmp_path: Path
) -> None:
    tool = SHARED / "tools" / "argo-conformance"
    if not tool.is_file():
        pytest.skip(f"{tool} is absent (shared/ not beside the repo)")
    docs = render(values)
    out = tmp_path / "out.yaml"
    out.write_text(yaml.safe_dump_all(docs))
    result = subprocess.run([str(tool), str(out)], capture_output=True, text=True, timeout=60)
    argo_docs = [d for d in docs if d["apiVersion"].startswith("argoproj.io/")]
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(argo_docs)} Argo documents checked, 0 failing" in result.stdout


@pytest.mark.parametrize("values", SCENARIOS)
def test_core_objects_validate_against_kubernetes_schemas(
    render: Callable[..., list[dict]], values: str
) -> None:
    import kubernetes_validate

    docs = [d for d in render(values) if not d["apiVersion"].startswith("argoproj.io/")]
    assert {d["kind"] for d in docs} <= CORE_KINDS
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


@pytest.mark.parametrize("values", SCENARIOS)
def test_security_defaults_on_every_pod(render: Callable[..., list[dict]], values: str) -> None:
    pods = list(_pod_specs(render(values)))
    assert pods
    for where, spec, containers in pods:
        defaults = (spec.get("templateDefaults") or {}).get("container") or {}
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert containers, where
        for c in containers:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            resources = c.get("resources") or defaults.get("resources")
            assert set(resources["requests"]) >= {"cpu", "memory"}, where
            assert set(resources["limits"]) >= {"cpu", "memory"}, where
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), (
                f"{where}: /tmp must be writable"
            )


@pytest.mark.parametrize("values", SCENARIOS)
def test_argo_expressions_reach_the_output_unchanged(
    render: Callable[..., list[dict]], values: str
) -> None:
    docs = render(values)
    for name in PIPELINES:
        for kind, file_name in (
            ("WorkflowTemplate", "workflowtemplate.yaml"),
            ("CronWorkflow", "cronworkflow.yaml"),
        ):
            source = RENDERED / name / file_name
            if not source.is_file():
                continue
            expected = {
                s for s in _strings(yaml.safe_load(source.read_text())) if ARGO_EXPR.search(s)
            }
            out = [d for d in _of_kind(docs, kind) if d["metadata"]["name"] == name]
            if kind == "CronWorkflow" and not out:
                continue
            assert len(out) == 1
            missing = expected - set(_strings(out[0]))
            assert not missing, (
                f"{kind} {name}: Argo expressions changed or lost: {sorted(missing)[:3]}"
            )
    assert any(ARGO_EXPR.search(s) for d in _of_kind(docs, "WorkflowTemplate") for s in _strings(d))


def test_default_values_are_applied_to_every_pipeline(render: Callable[..., list[dict]]) -> None:
    docs = render("values.yaml")
    wts = {d["metadata"]["name"]: d for d in _of_kind(docs, "WorkflowTemplate")}
    assert sorted(wts) == PIPELINES
    sa = _of_kind(docs, "ServiceAccount")[0]["metadata"]["name"]
    for wt in wts.values():
        assert wt["metadata"]["namespace"] == "ferry-test"
        assert wt["metadata"]["labels"]["app.kubernetes.io/instance"] == "ferry-test"
        assert wt["spec"]["serviceAccountName"] == sa
        params = {p["name"]: p.get("value") for p in wt["spec"]["arguments"]["parameters"]}
        assert params["store"] == "s3://ferry"
        for c in _step_containers(wt):
            assert c["image"] == f"{TEST_IMAGE}:0.1.0"
            assert c["command"] == ["python", "-m", "steps"]
    crons = {d["metadata"]["name"]: d for d in _of_kind(docs, "CronWorkflow")}
    scheduled = sorted(p for p in PIPELINES if (RENDERED / p / "cronworkflow.yaml").is_file())
    assert sorted(crons) == scheduled
    for name, cron in crons.items():
        source = yaml.safe_load((RENDERED / name / "cronworkflow.yaml").read_text())
        assert cron["spec"]["schedules"] == source["spec"]["schedules"]
        assert cron["spec"].get("suspend", False) is False


def test_dev_values_suspend_schedules_and_run_minio(render: Callable[..., list[dict]]) -> None:
    docs = render("values-dev.yaml")
    assert all(c["spec"]["suspend"] is True for c in _of_kind(docs, "CronWorkflow"))
    assert _of_kind(docs, "CronWorkflow")
    endpoint = next(d for d in _of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "ferry-s3")[
        "data"
    ]["endpoint"]
    assert endpoint == "http://ferry-test-minio.ferry-test.svc:9000"
    assert [d["metadata"]["name"] for d in _of_kind(docs, "Deployment")] == ["ferry-test-minio"]
    for wt in _of_kind(docs, "WorkflowTemplate"):
        assert {c["image"] for c in _step_containers(wt)} == {"ferry-step:dev"}
        params = {p["name"]: p.get("value") for p in wt["spec"]["arguments"]["parameters"]}
        assert params["store"] == "s3://ferry-dev"


def test_override_values_are_applied(render: Callable[..., list[dict]]) -> None:
    docs = render("ci/overrides-values.yaml")
    assert {d["metadata"]["namespace"] for d in docs} == {"etl"}
    assert all(d["metadata"]["labels"]["cost-center"] == "analytics" for d in docs)
    cron = next(
        d for d in _of_kind(docs, "CronWorkflow") if d["metadata"]["name"] == "orders-daily"
    )
    assert cron["spec"]["schedules"] == ["30 4 * * *"]
    assert cron["spec"]["suspend"] is True
    assert cron["spec"]["timezone"] == "Europe/Berlin"
    wts = {d["metadata"]["name"]: d for d in _of_kind(docs, "WorkflowTemplate")}
    orders = wts["orders-daily"]
    params = {p["name"]: p.get("value") for p in orders["spec"]["arguments"]["parameters"]}
    assert params["store"] == "s3://override-bucket/orders"
    assert orders["spec"]["nodeSelector"] == {"pool": "etl"}
    assert orders["spec"]["tolerations"][0]["key"] == "dedicated"
    assert orders["spec"]["affinity"]["nodeAffinity"]
    assert orders["spec"]["podMetadata"]["labels"]["team"] == "analytics"
    assert orders["spec"]["podMetadata"]["annotations"] == {"ferry.dev/owner": "analytics"}
    for tpl in orders["spec"]["templates"]:
        if "container" in tpl:
            assert tpl["container"]["image"] == "registry.example.com/data/ferry-step:1.2.3"
            assert tpl["container"]["imagePullPolicy"] == "Always"
            assert tpl["container"]["resources"]["limits"] == {"cpu": "3", "memory": "7Gi"}
            assert tpl["retryStrategy"]["limit"] == "6"
            assert tpl["retryStrategy"]["retryPolicy"] == "Always"
    other = wts["customer-quality"]
    # Nobody sized its steps: the chart's workflow.resources fill the templateDefaults.
    assert other["spec"]["templateDefaults"]["container"]["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi", "ephemeral-storage": "1Gi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    for tpl in other["spec"]["templates"]:
        if "container" in tpl:
            assert tpl["container"].get("resources", {}).get("limits") != {
                "cpu": "3",
                "memory": "7Gi",
            }
            assert tpl["retryStrategy"]["retryPolicy"] == "Always"
            assert tpl["retryStrategy"]["limit"] != "6"


def test_step_override_wins_over_pipeline_and_rendered(render: Callable[..., list[dict]]) -> None:
    wt = yaml.safe_load((RENDERED / "orders-daily" / "workflowtemplate.yaml").read_text())
    first, second = [t["name"] for t in wt["spec"]["templates"] if "container" in t][:2]
    docs = render(
        "values.yaml",
        sets=(
            f"pipelineOverrides.orders-daily.steps.{first}.resources.limits.memory=9Gi",
            f"pipelineOverrides.orders-daily.steps.{first}.resources.limits.cpu=4",
            f"pipelineOverrides.orders-daily.steps.{first}.resources.requests.cpu=1",
            f"pipelineOverrides.orders-daily.steps.{first}.resources.requests.memory=1Gi",
        ),
    )
    out = next(
        d for d in _of_kind(docs, "WorkflowTemplate") if d["metadata"]["name"] == "orders-daily"
    )
    by_name = {t["name"]: t for t in out["spec"]["templates"]}
    assert by_name[first]["container"]["resources"]["limits"] == {"cpu": 4, "memory": "9Gi"}
    rendered_second = next(t for t in wt["spec"]["templates"] if t["name"] == second)
    assert by_name[second]["container"].get("resources") == rendered_second["container"].get(
        "resources"
    )


def test_existing_secrets_are_referenced_and_no_secret_value_leaks(
    render: Callable[..., list[dict]],
) -> None:
    docs = render("ci/existing-secrets-values.yaml")
    assert not _of_kind(docs, "ServiceAccount")
    secrets = _of_kind(docs, "Secret")
    assert [s["metadata"]["name"] for s in secrets] == ["ci-api"]
    assert base64.b64decode(secrets[0]["data"]["token"]).decode() == "ci-token-value"
    refs = [
        e["valueFrom"]["secretKeyRef"]
        for wt in _of_kind(docs, "WorkflowTemplate")
        for c in _step_containers(wt)
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    ]
    assert refs
    assert "ferry-s3" not in {r["name"] for r in refs}
    assert "platform-s3" in {r["name"] for r in refs}
    for wt in _of_kind(docs, "WorkflowTemplate"):
        assert wt["spec"]["serviceAccountName"] == "data-pipelines"
        assert wt["spec"]["imagePullSecrets"] == [{"name": "registry-credentials"}]
    repo = yaml.safe_load(
        next(
            d
            for d in _of_kind(docs, "ConfigMap")
            if d["metadata"]["name"] == "artifact-repositories"
        )["data"]["ferry-s3"]
    )
    assert repo["s3"]["endpoint"] == "s3.eu-central-1.amazonaws.com"
    assert repo["s3"]["insecure"] is False
    assert repo["s3"]["accessKeySecret"] == {"name": "platform-s3", "key": "access-key-id"}
    non_secret_text = yaml.safe_dump_all([d for d in docs if d["kind"] != "Secret"])
    assert "ci-token-value" not in non_secret_text


@pytest.mark.parametrize("values", SCENARIOS)
def test_secrets_only_in_secret_objects(render: Callable[..., list[dict]], values: str) -> None:
    docs = render(values)
    secret_values = {
        base64.b64decode(v).decode()
        for s in _of_kind(docs, "Secret")
        for v in s.get("data", {}).values()
    }
    text = yaml.safe_dump_all([d for d in docs if d["kind"] != "Secret"])
    for value in secret_values:
        assert value not in text
    for wt in _of_kind(docs, "WorkflowTemplate"):
        for c in _step_containers(wt):
            for e in c.get("env", []):
                assert "value" not in e or not re.search(r"(?i)secret|password|token", e["name"]), e


def test_s3_secret_has_every_key_the_pipelines_reference(render: Callable[..., list[dict]]) -> None:
    docs = render("values-dev.yaml")
    secret = next(s for s in _of_kind(docs, "Secret") if s["metadata"]["name"] == "ferry-s3")
    configmap = next(c for c in _of_kind(docs, "ConfigMap") if c["metadata"]["name"] == "ferry-s3")
    for wt in _of_kind(docs, "WorkflowTemplate"):
        for c in _step_containers(wt):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {})
                if ref.get("secretKeyRef", {}).get("name") == "ferry-s3":
                    assert ref["secretKeyRef"]["key"] in secret["data"]
                if ref.get("configMapKeyRef", {}).get("name") == "ferry-s3":
                    assert ref["configMapKeyRef"]["key"] in configmap["data"]


TASK_RESULTS_RULE = {
    "apiGroups": ["argoproj.io"],
    "resources": ["workflowtaskresults"],
    "verbs": ["create", "patch"],
}


def test_workflow_role_grants_workflowtaskresults_and_workflows_create_for_triggers(
    render: Callable[..., list[dict]],
) -> None:
    docs = render("values.yaml")
    (role,) = _of_kind(docs, "Role")
    # orders-daily's exit handler creates the customer-quality Workflow (a dependency trigger).
    assert role["rules"] == [
        TASK_RESULTS_RULE,
        {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]},
    ]
    (binding,) = _of_kind(docs, "RoleBinding")
    assert binding["subjects"][0]["name"] == _of_kind(docs, "ServiceAccount")[0]["metadata"]["name"]
    cm = next(
        d for d in _of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "artifact-repositories"
    )
    assert cm["metadata"]["annotations"] == {
        "workflows.argoproj.io/default-artifact-repository": "ferry-s3"
    }
    assert (
        yaml.safe_load(cm["data"]["ferry-s3"])["s3"]["keyFormat"]
        == "argo/{{workflow.name}}/{{pod.name}}"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "cron.suspend=yes"), "- at '/cron/suspend': got string, want boolean"),
        (
            ("--set", "image.pullPolicy=Sometimes"),
            "- at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
        ),
        (("--set", "workers=3"), "- at '': additional properties 'workers' not allowed"),
        (
            ("--set", "workflow.securityContext.allowPrivilegeEscalation=true"),
            "- at '/workflow/securityContext/allowPrivilegeEscalation': value must be false",
        ),
        (
            ("--set", "pipelines={no-such-pipeline}"),
            'pipelines: "no-such-pipeline" has no files/pipelines/no-such-pipeline/'
            "workflowtemplate.yaml in the chart; add it with `make chart-sync`",
        ),
        (
            ("--set", "pipelineOverrides.orders-dayly.suspend=true"),
            'pipelineOverrides.orders-dayly: "orders-dayly" is not in pipelines',
        ),
        (
            ("--set", "pipelineOverrides.orders-daily.steps.nope.retryStrategy.limit=1"),
            'pipelineOverrides.orders-daily.steps.nope: pipeline "orders-daily" has no step "nope"',
        ),
        (
            ("--set", "pipelineOverrides.orders-daily.parameters.nope=1"),
            "pipelineOverrides.orders-daily.parameters.nope: "
            'pipeline "orders-daily" has no parameter "nope"',
        ),
        (
            ("--set", "pipelineOverrides.customer-quality.suspend=true"),
            'pipelineOverrides.customer-quality: pipeline "customer-quality" has no schedule',
        ),
        (("--set", "minio.enabled=true"), "minio.rootUser is required when minio.enabled is true"),
        (
            ("--set", "image.repository="),
            "image.repository is required: the step image built from images/step/Dockerfile",
        ),
        (
            ("--set", "pipelineOverrides.orders-daily.parameters.data_dir=null"),
            "pipelineOverrides.orders-daily.parameters.data_dir is required: its rendered "
            "default only works on a laptop",
        ),
        (
            ("--set", "workflow.podGC.strategy=Sometimes"),
            "- at '/workflow/podGC/strategy': value must be one of",
        ),
    ],
)
def test_bad_values_are_rejected_with_a_clear_message(
    run_helm: HelmRun, chart: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_helm(
        "template", "ferry-test", str(chart), "--set", f"image.repository={TEST_IMAGE}", *args
    )
    assert result.returncode == 1
    assert message in result.stderr


def test_without_a_dependency_trigger_the_role_grants_only_workflowtaskresults(
    render: Callable[..., list[dict]],
) -> None:
    docs = render("values.yaml", sets=("pipelines={customer-quality,orders-api}",))
    (role,) = _of_kind(docs, "Role")
    assert role["rules"] == [TASK_RESULTS_RULE]


def test_a_trigger_whose_downstream_is_not_installed_is_refused(
    run_helm: HelmRun, chart: Path
) -> None:
    result = run_helm(
        "template",
        "ferry-test",
        str(chart),
        "--set",
        f"image.repository={TEST_IMAGE}",
        "--set",
        "pipelines={orders-daily}",
    )
    assert result.returncode == 1
    assert (
        'pipelines: "orders-daily" runs "customer-quality" after it succeeds (a dependency '
        'trigger), but "customer-quality" is not installed; add it to pipelines'
    ) in result.stderr


def test_notes_show_the_next_commands(run_helm: HelmRun, chart: Path) -> None:
    result = run_helm(
        "install",
        "ferry-test",
        str(chart),
        "--dry-run=client",
        "-n",
        "ferry-test",
        "-f",
        str(chart / "values-dev.yaml"),
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert (
        "argo submit -n ferry-test --from workflowtemplate/orders-daily "
        "-p run_date=$(date +%F) --wait" in notes
    )
    assert "argo cron list -n ferry-test" in notes
    assert "schedules are suspended" in notes


def test_every_value_has_a_doc_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    covered: list[tuple[int, bool]] = []
    for i, line in enumerate(lines):
        key = re.match(r"^(\s*)[A-Za-z][\w-]*:", line)
        if not key:
            continue
        indent = len(key.group(1))
        while covered and covered[-1][0] >= indent:
            covered.pop()
        documented = lines[i - 1].strip().startswith("# --") or any(c for _, c in covered)
        covered.append((indent, documented))
        has_children = (
            i + 1 < len(lines) and len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent
        )
        assert documented or has_children, f"values.yaml line {i + 1}: {line.strip()} has no '# --'"


def _rendered_bindings(pipeline: str) -> list[dict]:
    path = RENDERED / pipeline / "eventbinding.yaml"
    return [d for d in yaml.safe_load_all(path.read_text()) if d] if path.is_file() else []


def test_event_bindings_of_selected_pipelines_are_installed_unchanged(
    render: Callable[..., list[dict]],
) -> None:
    docs = render("values.yaml")
    installed = _of_kind(docs, "WorkflowEventBinding")
    expected = [
        b
        for p in yaml.safe_load((CHART / "values.yaml").read_text())["pipelines"]
        for b in _rendered_bindings(p)
    ]
    assert expected, "no shipped pipeline has a trigger"
    assert [b["spec"] for b in installed] == [b["spec"] for b in expected]
    for binding in installed:
        meta = binding["metadata"]
        assert meta["namespace"] == "ferry-test"
        assert meta["labels"]["app.kubernetes.io/component"] == "trigger"
        assert (
            meta["labels"]["ferry.dev/pipeline"]
            == binding["spec"]["submit"]["workflowTemplateRef"]["name"]
        )
    templates = {d["metadata"]["name"] for d in _of_kind(docs, "WorkflowTemplate")}
    assert {b["spec"]["submit"]["workflowTemplateRef"]["name"] for b in installed} <= templates
    assert not [
        d for d in docs if d["kind"] == "ServiceAccount" and "events" in d["metadata"]["name"]
    ]


def test_event_bindings_follow_pipelines_and_events_enabled(
    render: Callable[..., list[dict]],
) -> None:
    no_events = render("values.yaml", sets=("pipelines={orders-daily,customer-quality}",))
    assert _of_kind(no_events, "WorkflowEventBinding") == []
    disabled = render("values.yaml", sets=("events.enabled=false",))
    assert _of_kind(disabled, "WorkflowEventBinding") == []
    assert _of_kind(disabled, "WorkflowTemplate")


def test_event_sender_gets_argos_submit_role_and_a_token(
    render: Callable[..., list[dict]],
) -> None:
    docs = render("ci/events-values.yaml")
    named = [d for d in docs if d["metadata"]["name"].startswith("minio-events")]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in named) == [
        ("Role", "minio-events"),
        ("RoleBinding", "minio-events"),
        ("Secret", "minio-events-token"),
        ("ServiceAccount", "minio-events"),
    ]
    role = next(d for d in named if d["kind"] == "Role")
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workfloweventbindings"], "verbs": ["list"]},
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtemplates"], "verbs": ["get"]},
        {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]},
    ]
    token = next(d for d in named if d["kind"] == "Secret")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "minio-events"
    }
    assert "data" not in token and "stringData" not in token
    binding = next(d for d in named if d["kind"] == "RoleBinding")
    assert binding["roleRef"]["name"] == "minio-events"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "minio-events", "namespace": "ferry-test"}
    ]
    assert len(_of_kind(docs, "WorkflowEventBinding")) == len(
        _rendered_bindings("orders-by-segment")
    )
