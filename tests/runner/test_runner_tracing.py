"""The runner's spans over retries: one attempt span per attempt, and what each attempt gets."""

import json
import os
import subprocess
from pathlib import Path

import yaml
from runner_testkit import FERRY_ACCEPTING_INLINE_PYTHON, container, workflow

from tests.observability.receivers import all_spans, otlp_collector

STATUS_OK, STATUS_ERROR = 1, 2


def test_each_attempt_is_a_span_of_the_run_and_gets_its_trace_context(
    tmp_path: Path, marks: Path
) -> None:
    retry = {"limit": 2, "backoff": {"duration": "10ms"}}
    flaky = container(
        "flaky",
        "--fail-first",
        "1",
        "--env",
        "TRACEPARENT",
        "--env",
        "FERRY_ATTEMPT",
        retryStrategy=retry,
    )
    (tmp_path / "workflow.yaml").write_text(yaml.safe_dump(workflow([flaky])))
    with otlp_collector() as (otlp, spans):
        result = subprocess.run(
            [
                *FERRY_ACCEPTING_INLINE_PYTHON,
                "run",
                "--manifest",
                "workflow.yaml",
                "--store",
                "store",
                "-p",
                f"marks={marks}",
                "--output",
                "json",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp},
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    received = all_spans(spans)
    (run,) = [s for s in received if s.name == "ferry.run"]
    attempts = [s for s in received if s.name == "ferry.attempt"]
    assert [(a.attributes["ferry.attempt"], a.attributes["ferry.status"]) for a in attempts] == [
        (0, "Failed"),
        (1, "Succeeded"),
    ]
    assert [a.status_code for a in attempts] == [STATUS_ERROR, STATUS_OK]
    assert attempts[0].status_message == "flaky: failing attempt 1 on purpose"
    assert {a.parent_span_id for a in attempts} == {run.span_id}
    assert {a.trace_id for a in attempts} == {run.trace_id}
    assert attempts[1].attributes["ferry.run_id"] == record["run_id"]
    # the last attempt's environment names its own span and number
    env = json.loads((marks / "flaky.env.json").read_text())
    assert env["FERRY_ATTEMPT"] == "1"
    version, trace_id, parent_id, flags = env["TRACEPARENT"].split("-")
    assert (version, trace_id, parent_id) == ("00", run.trace_id, attempts[1].span_id)
    assert int(flags, 16) & 1  # sampled
