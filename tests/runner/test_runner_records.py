import json
import os
import socket
from datetime import datetime
from pathlib import Path

from runner_testkit import container, run, workflow

from steps.contract import OUTPUT_PARAMETERS
from steps.runtime.store import open_location, read_text
from workflows.runner import RunRecord, TaskRecord, list_runs


def test_run_json_is_written_while_running_and_at_the_end(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container("first", "--rows", "10", "9", "1", outputs=OUTPUT_PARAMETERS),
            container(
                "second",
                "--snapshot",
                "{{workflow.parameters.store}}/runs/demo/{{workflow.name}}/run.json",
            ),
        ],
        {"second": ["first"]},
    )
    record, _ = run(manifest, store, marks)

    during = RunRecord.model_validate_json((marks / "second.snapshot").read_text())
    assert during.status.value == "Running"
    assert {t.name: t.status.value for t in during.tasks} == {
        "first": "Succeeded",
        "second": "Running",
    }
    assert during.task("first").rows_rejected == 1
    saved = json.loads((store / "runs" / "demo" / record.run_id / "run.json").read_text())
    assert saved["status"] == "Succeeded"
    assert saved["pipeline"] == "demo"
    assert saved["parameters"]["store"] == str(store)
    assert set(saved) == {
        "run_id",
        "pipeline",
        "source",
        "store",
        "parameters",
        "status",
        "message",
        "started",
        "finished",
        "duration_seconds",
        "tasks",
        "runner_pid",
        "runner_host",
        "heartbeat",
        "python_path",
        "retries",
        "triggered_by",
    }
    assert saved["runner_pid"] == os.getpid()
    assert saved["runner_host"] == socket.gethostname()
    assert datetime.fromisoformat(saved["heartbeat"]) >= datetime.fromisoformat(saved["finished"])
    first = saved["tasks"][0]
    assert {k: first[k] for k in ("name", "status", "attempts", "exit_code", "reason")} == {
        "name": "first",
        "status": "Succeeded",
        "attempts": 1,
        "exit_code": 0,
        "reason": None,
    }
    assert (
        first["rows_in"],
        first["rows_out"],
        first["rows_rejected"],
        first["quality_score"],
    ) == (10, 9, 1, 0.9)


def test_list_runs_is_newest_first_and_filters_by_pipeline(store: Path, marks: Path) -> None:
    older, _ = run(workflow([container("a")], pipeline="alpha"), store, marks)
    newer, _ = run(
        workflow([container("a", "--exit", "1", "--message", "no")], pipeline="beta"), store, marks
    )
    newest, _ = run(workflow([container("a")], pipeline="alpha"), store, marks)

    assert [r.run_id for r in list_runs(str(store))] == [newest.run_id, newer.run_id, older.run_id]
    assert [r.run_id for r in list_runs(str(store), "alpha")] == [newest.run_id, older.run_id]
    assert [r.status.value for r in list_runs(str(store), "beta")] == ["Failed"]
    assert list_runs(str(store), "gamma") == []
    assert list_runs(str(store.parent / "empty")) == []


def test_an_s3_store_gets_the_run_record_and_logs(
    s3_bucket: str, marks: Path, tmp_path: Path
) -> None:
    store = f"{s3_bucket}/dev"
    manifest = workflow(
        [
            container(
                "a",
                "--rows",
                "3",
                "3",
                "0",
                "--",
                "{{workflow.parameters.store}}",
                outputs=OUTPUT_PARAMETERS,
            )
        ]
    )

    record, _ = run(manifest, store, marks, workdir=tmp_path / "scratch")

    assert json.loads((marks / "a.argv.json").read_text()) == [store]
    assert record.store == store
    assert record.task("a").log == f"{store}/runs/demo/{record.run_id}/logs/a.log"
    log = read_text(open_location(record.task("a").log))
    assert log.startswith("==> a attempt 1/1 pod ")
    [listed] = list_runs(store)
    assert listed.run_id == record.run_id and listed.status.value == "Succeeded"
    assert listed.task("a").rows_out == 3


def test_every_output_parameter_of_the_step_contract_has_a_task_record_field() -> None:
    assert set(OUTPUT_PARAMETERS) <= set(TaskRecord.model_fields)
