"""Reading a run's folder for the run and step pages: attempts, log, DAG, artifact, profile."""

from datetime import UTC, datetime
from pathlib import Path

from steps.runtime.store import open_location
from workflows.runner.record import RunRecord, TaskRecord, TaskStatus
from workflows.ui.run_files import artifact_location, dag_graph
from workflows.ui.step_artifact import profile_table
from workflows.ui.step_log import LOG_TAIL_BYTES, read_attempts, read_log_tail


def _record(store: Path, task: TaskRecord) -> RunRecord:
    return RunRecord(
        run_id="p-abc12",
        pipeline="p",
        source="p",
        store=str(store),
        parameters={"store": str(store)},
        started=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        tasks=[task],
    )


def _task(**fields: object) -> TaskRecord:
    values: dict[str, object] = {"name": "load", "template": "load", "log": "load.log"}
    return TaskRecord.model_validate({**values, **fields})


def _write_log(store: Path, text: str) -> None:
    logs = store / "runs" / "p" / "p-abc12" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "load.log").write_text(text)


RETRIED_LOG = """\
==> load attempt 1/3 pod p-abc12-load-1 at 2026-11-01T03:00:01Z
{"ts": "2026-11-01T03:00:01.500+00:00", "level": "info", "event": "step_started", "elapsed_s": 0.25}
{"ts": "2026-11-01T03:00:04.000+00:00", "event": "step_failed", "elapsed_s": 2.75, \
"reason": "connection refused", "exit_code": 1}
ferry: pipeline 'p', step 'load': connection refused
==> load attempt 2/3 pod p-abc12-load-2 at 2026-11-01T03:00:14Z
{"ts": "2026-11-01T03:00:14.400+00:00", "level": "info", "event": "step_started", "elapsed_s": 0.2}
{"ts": "2026-11-01T03:00:20.000+00:00", "level": "info", "event": "step_finished", "elapsed_s": 5.8}
"""


def test_attempts_are_read_from_the_runners_headers_and_the_steps_events(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _write_log(store, RETRIED_LOG)
    task = _task(
        status=TaskStatus.SUCCEEDED,
        attempts=2,
        started=datetime(2026, 11, 1, 3, 0, 1, 200_000, tzinfo=UTC),
        finished=datetime(2026, 11, 1, 3, 0, 20, 100_000, tzinfo=UTC),
    )
    record = _record(store, task)
    attempts = read_attempts(open_location(str(store)), record, task)
    assert [(a.number, a.outcome, a.reason) for a in attempts] == [
        (1, "Failed", "connection refused"),
        (2, "Succeeded", None),
    ]
    assert attempts[0].started == datetime(2026, 11, 1, 3, 0, 1, 250_000, tzinfo=UTC)
    assert attempts[0].finished == datetime(2026, 11, 1, 3, 0, 4, tzinfo=UTC)
    assert attempts[1].started == datetime(2026, 11, 1, 3, 0, 14, 200_000, tzinfo=UTC)
    assert attempts[1].finished == task.finished


def test_an_attempt_still_going_has_no_end_and_a_task_never_started_has_none(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    _write_log(
        store,
        RETRIED_LOG.split("==> load attempt 2/3")[0]
        + ("==> load attempt 2/3 pod p-abc12-load-2 at 2026-11-01T03:00:14Z\n"),
    )
    running = _task(status=TaskStatus.RUNNING, attempts=2)
    attempts = read_attempts(open_location(str(store)), _record(store, running), running)
    assert [(a.number, a.outcome, a.finished) for a in attempts][1] == (2, "Running", None)
    pending = _task(name="other", template="other")
    assert read_attempts(open_location(str(store)), _record(store, pending), pending) == []


def test_the_log_tail_is_bounded_and_starts_at_a_whole_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    lines = [f"line {n:06d} " + "x" * 50 for n in range(5_000)]
    _write_log(store, "\n".join(lines) + "\n")
    task = _task()
    tail, cut = read_log_tail(open_location(str(store)), _record(store, task), task)
    assert cut is True
    assert len(tail.encode()) <= LOG_TAIL_BYTES
    assert tail.splitlines()[0] in lines
    assert tail.splitlines()[-1] == lines[-1]


def test_the_dag_follows_dependencies_and_depends_expressions() -> None:
    task = _task(name="a", template="a")
    record = _record(Path("/s"), task)
    record.tasks += [_task(name=n, template=n) for n in ("b", "c", "d")]
    manifest = {
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "dag": {
                        "tasks": [
                            {"name": "a"},
                            {"name": "b", "dependencies": ["a"]},
                            {"name": "c", "depends": "a && (b.Failed || b.Errored)"},
                            {"name": "d", "dependencies": ["c", "gone"]},
                            {"name": "gone"},
                        ]
                    },
                }
            ],
        }
    }
    assert dag_graph(record, manifest) == {"a": [], "b": ["a"], "c": ["a", "b"], "d": ["c"]}
    assert dag_graph(record, None) == {"a": [], "b": [], "c": [], "d": []}


def test_the_artifact_is_where_the_templates_output_points() -> None:
    task = _task()
    record = _record(Path("/s"), task)
    output = "{{workflow.parameters.store}}/elsewhere/{{workflow.name}}/load"
    manifest = {
        "spec": {"templates": [{"name": "load", "container": {"args": ["--output", output]}}]}
    }
    store = open_location("/s")
    assert artifact_location(store, record, task, manifest).path == "/s/elsewhere/p-abc12/load"
    assert artifact_location(store, record, task, None).path == "/s/artifacts/p-abc12/load"
    unknown = {
        "spec": {
            "templates": [
                {"name": "load", "container": {"args": ["--output", "{{inputs.parameters.where}}"]}}
            ]
        }
    }
    assert artifact_location(store, record, task, unknown).path == "/s/artifacts/p-abc12/load"


def test_a_column_profile_of_any_known_shape_becomes_one_table() -> None:
    by_name = {"amount": {"nulls": 0, "min": 1.5, "mean": 2.123456789}, "status": {"nulls": 3}}
    listed = [
        {"column": "amount", "nulls": 0, "min": 1.5, "mean": 2.123456789},
        {"column": "status", "nulls": 3},
    ]
    for profile in (by_name, {"columns": by_name}, listed, {"columns": listed}):
        table = profile_table(profile)
        assert table is not None
        assert table.keys == ["nulls", "min", "mean"]
        assert table.rows == [("amount", ["0", "1.5", "2.12346"]), ("status", ["3", "", ""])]
    top = profile_table({"status": {"top_values": [{"value": "placed", "count": 7}]}})
    assert top is not None and top.rows == [("status", ["placed (7)"])]
    assert profile_table(None) is None
    assert profile_table("not a profile") is None
