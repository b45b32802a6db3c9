"""A step started without a runner (as on Argo): its own trace id rule, attempts, bad settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from steps.runtime.lineage import LineageEmitter, LineageSettings, pipeline_run_uuid, run_uuid
from steps.runtime.tracing import RunTraceIds
from tests.observability.conftest import closed_port
from tests.observability.receivers import all_spans, lineage_consumer, otlp_collector


def _clean_environ(**extra: str) -> dict[str, str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "OPENLINEAGE_", "TRACEPARENT", "TRACESTATE", "FERRY_"))
    }
    environ.update(extra)
    return environ


def _extract(tmp_path: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,amount\n1,2.5\n2,3.5\n3,1.0\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "steps",
            "extract-files",
            "--pipeline",
            "shop",
            "--step",
            "orders",
            "--run-id",
            "shop-abc12",
            "--store",
            str(tmp_path / "store"),
            "--output",
            str(tmp_path / "store" / "artifacts" / "shop-abc12" / "orders"),
            "--config",
            json.dumps({"path": str(data), "format": "csv"}),
        ],
        capture_output=True,
        text=True,
        env={**environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
        timeout=120,
    )


def test_attempts_of_a_workflow_step_share_the_trace_derived_from_the_run_id(
    tmp_path: Path,
) -> None:
    with otlp_collector() as (otlp, spans), lineage_consumer() as (lineage, events):
        for attempt in ("0", "1"):
            environ = _clean_environ(
                OTEL_EXPORTER_OTLP_ENDPOINT=otlp, OPENLINEAGE_URL=lineage, FERRY_ATTEMPT=attempt
            )
            result = _extract(tmp_path, environ)
            assert result.returncode == 0, result.stderr
    steps = [s for s in all_spans(spans) if s.name == "ferry.step"]
    expected = f"{RunTraceIds('shop-abc12').generate_trace_id():032x}"
    assert [(s.trace_id, s.parent_span_id, s.attributes["ferry.attempt"]) for s in steps] == [
        (expected, "", 0),
        (expected, "", 1),
    ]
    assert [e["eventType"] for e in events.bodies] == ["START", "COMPLETE"] * 2
    assert [e["run"]["runId"] for e in events.bodies] == [
        run_uuid("shop-abc12", "orders", 0),
        run_uuid("shop-abc12", "orders", 0),
        run_uuid("shop-abc12", "orders", 1),
        run_uuid("shop-abc12", "orders", 1),
    ]
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in events.bodies}
    assert parents == {pipeline_run_uuid("shop-abc12")}
    assert {e["job"]["namespace"] for e in events.bodies} == {"ferry"}


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        (
            {"OTEL_TRACES_EXPORTER": "console"},
            "OTEL_TRACES_EXPORTER=console is not supported, tracing is off; "
            "Ferry exports traces with otlp (or set none)",
        ),
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported, tracing is off; Ferry exports "
            "OTLP over http/protobuf (port 4318 of a collector)",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
            },
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json is not supported, tracing is off; "
            "Ferry exports OTLP over http/protobuf (port 4318 of a collector)",
        ),
    ],
    ids=["exporter", "protocol", "traces-protocol"],
)
def test_an_unsupported_exporter_setting_turns_tracing_off_with_a_warning(
    tmp_path: Path, setting: dict[str, str], reason: str
) -> None:
    with otlp_collector() as (otlp, spans):
        result = _extract(tmp_path, _clean_environ(OTEL_EXPORTER_OTLP_ENDPOINT=otlp, **setting))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    (warning,) = [line for line in lines if line["event"] == "tracing_not_started"]
    assert warning["level"] == "warning"
    assert warning["reason"] == reason
    assert all("trace_id" not in line for line in lines)
    assert spans.bodies == []


def test_a_lineage_problem_names_the_endpoint_without_its_credentials() -> None:
    port = closed_port()
    settings = LineageSettings.from_environ(
        {
            "OPENLINEAGE_URL": f"http://ferry:s3cret@127.0.0.1:{port}/",
            "OPENLINEAGE_ENDPOINT": "api/v1/lineage",
        }
    )
    emitter = LineageEmitter(settings, "shop", "orders", "shop-abc12", 0)
    problem = emitter.emit(emitter.event("START", [], []))
    assert problem is not None
    assert problem.startswith(f"http://127.0.0.1:{port}/api/v1/lineage: ")
    assert problem == (
        f"http://127.0.0.1:{port}/api/v1/lineage: URLError: [Errno 111] Connection refused"
    )
    assert settings.authorization() == "Basic ZmVycnk6czNjcmV0"
    assert emitter.emit(emitter.event("COMPLETE", [], [])) == problem  # nothing more is tried
