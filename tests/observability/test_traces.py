"""Traces of a run: one trace from the runner's run span down to each step's phases."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ferry_cli import EXAMPLES
from tests.observability.conftest import ObservedRun, closed_port, observed_run
from tests.observability.receivers import ReceivedSpan, lineage_consumer, otlp_collector

STATUS_OK, STATUS_ERROR = 1, 2
DEMO_STEPS = {"orders", "customers", "orders-checked", "daily-revenue", "revenue-dataset"}


def _by_name(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.name == name]


def test_runner_and_step_spans_form_one_trace(demo_run: ObservedRun) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    assert {s.trace_id for s in demo_run.spans} == {demo_run.spans[0].trace_id}
    assert {s.service_name for s in demo_run.spans} == {"ferry"}
    (run,) = _by_name(demo_run.spans, "ferry.run")
    assert run.parent_span_id == ""
    assert run.status_code == STATUS_OK
    assert run.attributes == {
        "ferry.pipeline": "orders-daily",
        "ferry.run_id": demo_run.record["run_id"],
        "ferry.source": "orders-daily",
        "ferry.status": "Succeeded",
    }


def test_span_tree_is_run_attempt_step_phases(demo_run: ObservedRun) -> None:
    spans = {s.span_id: s for s in demo_run.spans}
    (run,) = _by_name(demo_run.spans, "ferry.run")
    attempts = _by_name(demo_run.spans, "ferry.attempt")
    assert {a.attributes["ferry.step"] for a in attempts} == DEMO_STEPS
    assert {a.parent_span_id for a in attempts} == {run.span_id}
    steps = _by_name(demo_run.spans, "ferry.step")
    for step in steps:
        attempt = spans[step.parent_span_id]
        assert attempt.name == "ferry.attempt"
        assert attempt.attributes["ferry.step"] == step.attributes["ferry.step"]
        assert attempt.attributes["ferry.attempt"] == step.attributes["ferry.attempt"] == 0
    children = {
        step.attributes["ferry.step"]: sorted(
            s.name for s in demo_run.spans if s.parent_span_id == step.span_id
        )
        for step in steps
    }
    assert children == {name: ["ferry.compute", "ferry.prepare"] for name in DEMO_STEPS}
    (transform,) = [s for s in steps if s.attributes["ferry.step"] == "daily-revenue"]
    (compute,) = [
        s
        for s in demo_run.spans
        if s.parent_span_id == transform.span_id and s.name == "ferry.compute"
    ]
    below = sorted(
        (s.name, s.attributes.get("ferry.input", ""))
        for s in demo_run.spans
        if s.parent_span_id == compute.span_id
    )
    assert below == [
        ("ferry.read", "customers"),
        ("ferry.read", "orders-checked"),
        ("ferry.write", ""),
    ]


def test_row_counts_are_span_attributes(demo_run: ObservedRun) -> None:
    tasks = {t["name"]: t for t in demo_run.record["tasks"]}
    for step in _by_name(demo_run.spans, "ferry.step"):
        task = tasks[step.attributes["ferry.step"]]
        assert step.attributes["ferry.pipeline"] == "orders-daily"
        assert step.attributes["ferry.run_id"] == demo_run.record["run_id"]
        assert step.status_code == STATUS_OK
        counts = {k: step.attributes[f"ferry.rows.{k}"] for k in ("in", "out", "rejected")}
        assert counts == {
            "in": task["rows_in"],
            "out": task["rows_out"],
            "rejected": task["rows_rejected"],
        }
    writes = {
        Path(str(s.attributes["ferry.artifact"])).name: s.attributes["ferry.rows.out"]
        for s in _by_name(demo_run.spans, "ferry.write")
    }
    assert writes == {n: tasks[n]["rows_out"] for n in DEMO_STEPS - {"revenue-dataset"}}
    reads = _by_name(demo_run.spans, "ferry.read")
    assert {(s.attributes["ferry.input"], s.attributes["ferry.rows.in"]) for s in reads} >= {
        ("orders", tasks["orders"]["rows_out"]),
        ("orders-checked", tasks["orders-checked"]["rows_out"]),
    }


def steps_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The tasks of the main DAG (exit-handler tasks, such as a skipped trigger, are not steps)."""
    return [t for t in record["tasks"] if t.get("hook") is None]


def test_every_step_log_line_carries_the_trace_id(demo_run: ObservedRun) -> None:
    trace_id = demo_run.spans[0].trace_id
    for task in steps_of(demo_run.record):
        lines = [
            json.loads(line)
            for line in Path(task["log"]).read_text().splitlines()
            if line.startswith("{")
        ]
        assert lines, task["name"]
        assert {line["trace_id"] for line in lines} == {trace_id}


def test_a_failed_step_marks_its_spans_failed(failed_run: ObservedRun) -> None:
    assert failed_run.returncode == 1
    (run,) = _by_name(failed_run.spans, "ferry.run")
    assert run.status_code == STATUS_ERROR
    assert run.attributes["ferry.status"] == "Failed"
    (step,) = [
        s
        for s in _by_name(failed_run.spans, "ferry.step")
        if s.attributes["ferry.step"] == "orders-checked"
    ]
    assert step.status_code == STATUS_ERROR
    assert step.attributes["ferry.exit_code"] == 3
    assert step.status_message.startswith("quality score 0.9940 is below threshold 0.9990")
    (attempt,) = [
        s
        for s in _by_name(failed_run.spans, "ferry.attempt")
        if s.attributes["ferry.step"] == "orders-checked"
    ]
    assert attempt.attributes["ferry.status"] == "Failed"
    assert attempt.attributes["ferry.exit_code"] == 3


def test_a_collector_that_is_down_neither_fails_nor_stalls_the_run(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    with otlp_collector() as (_, spans), lineage_consumer() as (_, events):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": down,
            "OTEL_EXPORTER_OTLP_TIMEOUT": "1",
            "OPENLINEAGE_URL": down,
            "FERRY_LINEAGE_TIMEOUT_S": "1",
        }
        run = observed_run(tmp_path, "orders-daily", EXAMPLES, env, spans, events)
    assert run.returncode == 0, run.stderr
    assert run.record["status"] == "Succeeded"
    assert "spans were not accepted by the OTLP endpoint in time" in run.stderr
    # five steps, two waves of parallel steps at most 1 s of export each, plus the run's
    assert run.seconds < 90
    for task in steps_of(run.record):
        lines = [
            json.loads(line)
            for line in Path(task["log"]).read_text().splitlines()
            if line.startswith("{")
        ]
        events = {line["event"]: line for line in lines}
        assert [line["event"] for line in lines].count("lineage_not_sent") == 1
        # the export after the step's work waits no longer than the 1 s timeout (+ slack)
        waited = events["traces_not_exported"]["elapsed_s"] - events["step_finished"]["elapsed_s"]
        assert waited < 1 + 1.5, task["name"]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{otlp}", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{otlp}", "OTEL_TRACES_EXPORTER": "none"},
    ],
    ids=["no-endpoint", "sdk-disabled", "exporter-none"],
)
def test_off_a_step_imports_no_opentelemetry_and_nothing_is_sent(
    tmp_path: Path, env: dict[str, str]
) -> None:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,amount\n1,2.5\n2,3.5\n")
    with otlp_collector() as (otlp, spans):
        environ = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OTEL_", "OPENLINEAGE_", "TRACEPARENT"))
        }
        environ.update({k: v.format(otlp=otlp) for k, v in env.items()})
        environ["FERRY_OUTPUTS_DIR"] = str(tmp_path / "outputs")
        result = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "steps",
                "extract-files",
                "--pipeline",
                "p",
                "--step",
                "orders",
                "--run-id",
                "p-1",
                "--store",
                str(tmp_path / "store"),
                "--output",
                str(tmp_path / "store" / "artifacts" / "p-1" / "orders"),
                "--config",
                f'{{"path": "{data}", "format": "csv"}}',
            ],
            capture_output=True,
            text=True,
            env=environ,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "steps.runtime.harness" in imported
    assert not [m for m in imported if m.startswith(("opentelemetry", "steps.runtime.tracing"))]
    assert not [m for m in imported if m.startswith("steps.runtime.lineage")]
    assert "trace_id" not in result.stdout
    assert spans.bodies == []
