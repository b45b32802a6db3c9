import json
import re
import time
from pathlib import Path

import pytest
from runner_testkit import argv, container, mark, run, statuses, workflow

from steps.contract import OUTPUT_PARAMETERS
from workflows.runner import RunRecord, RunStatus
from workflows.runner.run_store import RunFolder


def test_tasks_run_in_dependency_order_and_report_rows(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container("extract", "--rows", "1000000", "1000000", "0", outputs=OUTPUT_PARAMETERS),
            container("check", "--rows", "1000000", "999500", "500", outputs=OUTPUT_PARAMETERS),
            container("transform", outputs=()),
            container("load", "--rows", "999500", "999500", "0", outputs=OUTPUT_PARAMETERS),
        ],
        {"check": ["extract"], "transform": ["extract"], "load": ["check", "transform"]},
    )
    record, view = run(manifest, store, marks)

    assert record.status is RunStatus.SUCCEEDED
    assert list(statuses(record).values()) == ["Succeeded"] * 4
    assert mark(marks, "check", "start") >= mark(marks, "extract", "end")
    assert mark(marks, "transform", "start") >= mark(marks, "extract", "end")
    assert mark(marks, "load", "start") >= max(
        mark(marks, "check", "end"), mark(marks, "transform", "end")
    )
    check = record.task("check")
    assert (check.rows_in, check.rows_out, check.rows_rejected) == (1000000, 999500, 500)
    assert check.quality_score == pytest.approx(0.9995)
    assert check.attempts == 1 and check.exit_code == 0 and check.reason is None
    assert record.task("transform").rows_in is None
    assert "▶ extract started" in view
    assert re.search(r"✔ check \d+\.\ds rows 1,000,000 -> 999,500 \(500 rejected\)", view)


def test_independent_tasks_run_at_the_same_time(store: Path, marks: Path) -> None:
    # Each task waits until the other has started: run one after the other, both would fail.
    manifest = workflow([container("a", "--rendezvous", "b"), container("b", "--rendezvous", "a")])
    record, _ = run(manifest, store, marks, parallelism=2)

    assert statuses(record) == {"a": "Succeeded", "b": "Succeeded"}
    assert mark(marks, "a", "start") < mark(marks, "b", "end")
    assert mark(marks, "b", "start") < mark(marks, "a", "end")


def test_parallelism_one_runs_tasks_one_after_the_other(store: Path, marks: Path) -> None:
    manifest = workflow([container("a"), container("b"), container("c")])
    record, _ = run(manifest, store, marks, parallelism=1)

    assert record.status is RunStatus.SUCCEEDED
    assert mark(marks, "b", "start") >= mark(marks, "a", "end")
    assert mark(marks, "c", "start") >= mark(marks, "b", "end")


def test_spec_parallelism_caps_the_runner(store: Path, marks: Path) -> None:
    manifest = workflow([container("a"), container("b")], parallelism=1)
    record, _ = run(manifest, store, marks, parallelism=8)

    assert record.status is RunStatus.SUCCEEDED
    assert mark(marks, "b", "start") >= mark(marks, "a", "end")


def test_a_failed_task_stops_tasks_not_yet_started(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container("a", "--exit", "1", "--message", "a: source is unreachable; check the URL"),
            container("b"),
            container("c"),
        ],
        {"c": ["a"]},
    )
    record, view = run(manifest, store, marks, parallelism=1)

    assert record.status is RunStatus.FAILED
    assert statuses(record) == {"a": "Failed", "b": "Omitted", "c": "Omitted"}
    a = record.task("a")
    assert (a.exit_code, a.reason, a.attempts) == (1, "a: source is unreachable; check the URL", 1)
    assert record.message == "step 'a': a: source is unreachable; check the URL"
    assert not (marks / "b.start").exists()
    assert "✖ a failed after 1 attempt: a: source is unreachable; check the URL" in view
    assert "not run: b, c" in view


def test_running_tasks_finish_after_a_failure(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container("a", "--rendezvous", "b", "--exit", "4", "--message", "a: broke"),
            container("b", "--rendezvous", "a", "--wait-for", "a"),
            container("c"),
            container("d"),
        ],
        {"c": ["a"], "d": ["a", "b"]},
    )
    record, _ = run(manifest, store, marks, parallelism=2)

    assert statuses(record) == {"a": "Failed", "b": "Succeeded", "c": "Omitted", "d": "Omitted"}
    assert record.task("a").exit_code == 4
    assert mark(marks, "b", "end") >= mark(marks, "a", "start")


def test_output_parameters_flow_into_downstream_arguments(store: Path, marks: Path) -> None:
    producer = container(
        "produce",
        "--output",
        "token=abc123",
        "--rows",
        "7",
        "7",
        "0",
        outputs=(*OUTPUT_PARAMETERS, "token"),
    )
    consumer = container(
        "consume",
        "--",
        "{{inputs.parameters.token}}",
        "{{inputs.parameters.fixed}}",
        inputs={
            "parameters": [
                {"name": "token"},
                {"name": "fixed", "default": "d-{{workflow.parameters.run_date}}"},
            ]
        },
    )
    manifest = workflow([producer, consumer], {"consume": ["produce"]})
    manifest["spec"]["templates"][0]["dag"]["tasks"][1]["arguments"] = {
        "parameters": [{"name": "token", "value": "{{tasks.produce.outputs.parameters.token}}"}]
    }
    record, _ = run(manifest, store, marks)

    assert record.task("produce").outputs == {
        "rows_in": "7",
        "rows_out": "7",
        "rows_rejected": "0",
        "quality_score": "1.000000",
        "input_rows": "{}",
        "warning": "",
        "cached": "",
        "token": "abc123",
    }
    assert argv(marks, "consume") == ["abc123", f"d-{record.parameters['run_date']}"]


def test_workflow_variables_are_substituted_as_argo_does(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container(
                "show",
                "--",
                "{{workflow.name}}",
                "{{workflow.namespace}}",
                "{{workflow.uid}}",
                "{{workflow.parameters.store}}",
                "{{workflow.parameters.run_date}}",
                "{{workflow.creationTimestamp}}",
                "{{workflow.creationTimestamp.H}}{{ workflow.creationTimestamp.M }}",
                "{{pod.name}}",
                "{{retries}}",
            )
        ]
    )
    record, _ = run(manifest, store, marks)

    name, namespace, uid, store_value, run_date, created, hour_minute, pod, retries = argv(
        marks, "show"
    )
    assert name == record.run_id
    assert re.fullmatch(r"demo-[bcdfghjklmnpqrstvwxz2456789]{5}", name)
    assert namespace == "default"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", uid)
    assert store_value == str(store) == record.parameters["store"]
    assert run_date == record.started.strftime("%Y-%m-%d")
    assert created == record.started.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hour_minute == record.started.strftime("%H%M")
    assert re.fullmatch(rf"{name}-show-\d+", pod)
    assert retries == "0"


def test_p_overrides_a_parameter_literally(store: Path, marks: Path) -> None:
    manifest = workflow([container("show", "--", "{{workflow.parameters.run_date}}")])
    record, _ = run(manifest, store, marks, {"run_date": "2026-11-01"})

    assert argv(marks, "show") == ["2026-11-01"]
    assert record.parameters == {"store": str(store), "run_date": "2026-11-01", "marks": str(marks)}


def test_env_values_secrets_and_config_maps(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_API_TOKEN", "s3cret")
    monkeypatch.setenv("ORDERS_REGION", "eu")
    monkeypatch.delenv("OPTIONAL_TOKEN", raising=False)
    template = container(
        "extract-orders",
        *(
            "--env",
            "PLAIN",
            "--env",
            "ORDERS_API_TOKEN",
            "--env",
            "ORDERS_REGION",
            "--env",
            "OPTIONAL_TOKEN",
        ),
    )
    template["container"]["env"] = [
        {"name": "PLAIN", "value": "run-{{workflow.name}}"},
        {
            "name": "ORDERS_API_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "orders-api", "key": "token"}},
        },
        {
            "name": "ORDERS_REGION",
            "valueFrom": {"configMapKeyRef": {"name": "orders", "key": "region"}},
        },
        {
            "name": "OPTIONAL_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "x", "key": "y", "optional": True}},
        },
    ]
    record, _ = run(workflow([template]), store, marks)

    env = json.loads((marks / "extract-orders.env.json").read_text())
    assert env == {
        "PLAIN": f"run-{record.run_id}",
        "ORDERS_API_TOKEN": "s3cret",
        "ORDERS_REGION": "eu",
        "OPTIONAL_TOKEN": None,
    }


def test_template_deadline_kills_a_hanging_attempt(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("stuck", "--hang", activeDeadlineSeconds=1), container("after")],
        {"after": ["stuck"]},
    )
    record, view = run(manifest, store, marks, kill_grace_seconds=1)

    stuck = record.task("stuck")
    assert statuses(record) == {"stuck": "Failed", "after": "Omitted"}
    assert stuck.reason == (
        "killed after exceeding activeDeadlineSeconds=1; "
        "raise the step's timeout if it needs longer"
    )
    assert stuck.exit_code == -15
    assert stuck.duration_seconds is not None and 1 <= stuck.duration_seconds < 4
    assert "✖ stuck failed after 1 attempt: killed after exceeding activeDeadlineSeconds=1" in view


def test_task_times_are_the_attempts_even_when_the_record_is_saved_slowly(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start and end are taken when they happen, not when the main thread gets to them.

    Each event is followed by a save of the record; on a slow store (or a loaded
    machine) the second task's start was handled a save later, so a task killed at
    its 1 s deadline was recorded as lasting less than that.
    """
    save = RunFolder.save

    def slow_save(folder: RunFolder, record: RunRecord) -> None:
        time.sleep(0.5)
        save(folder, record)

    monkeypatch.setattr(RunFolder, "save", slow_save)
    manifest = workflow(
        [
            container("first", "--hang", activeDeadlineSeconds=1),
            container("second", "--hang", activeDeadlineSeconds=1),
        ]
    )
    record, _ = run(manifest, store, marks, kill_grace_seconds=1, parallelism=2)
    for name in ("first", "second"):
        task = record.task(name)
        assert task.reason is not None and task.reason.startswith(
            "killed after exceeding activeDeadlineSeconds=1;"
        )
        assert task.duration_seconds is not None and task.duration_seconds >= 1, name


def test_ignoring_sigterm_gets_sigkill_after_the_grace_period(store: Path, marks: Path) -> None:
    template = container("stubborn", activeDeadlineSeconds=1)
    template["container"]["args"] = [
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring TERM', file=sys.stderr, flush=True); time.sleep(60)"
    ]
    record, _ = run(workflow([template]), store, marks, kill_grace_seconds=0.5)

    assert record.task("stubborn").exit_code == -9
    assert record.task("stubborn").status.value == "Failed"


def test_workflow_deadline_stops_the_run(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("stuck", "--hang"), container("after")],
        {"after": ["stuck"]},
        activeDeadlineSeconds=1,
    )
    record, _ = run(manifest, store, marks, kill_grace_seconds=1)

    assert record.status is RunStatus.FAILED
    assert statuses(record) == {"stuck": "Failed", "after": "Omitted"}
    assert (
        record.task("stuck").reason
        == "the workflow's activeDeadlineSeconds=1 passed; the attempt was killed"
    )
    assert record.message == "activeDeadlineSeconds=1 of the workflow passed"
    assert record.duration_seconds is not None and record.duration_seconds < 4


def test_each_attempt_is_logged_under_a_header(store: Path, marks: Path) -> None:
    template = container("flaky", "--fail-first", "1", retryStrategy={"limit": 1})
    record, _ = run(workflow([template]), store, marks)

    log = (store / "runs" / "demo" / record.run_id / "logs" / "flaky.log").read_text()
    headers = [line for line in log.splitlines() if line.startswith("==> ")]
    assert [h.split(" pod ")[0] for h in headers] == [
        "==> flaky attempt 1/2",
        "==> flaky attempt 2/2",
    ]
    assert "flaky: failing attempt 1 on purpose" in log
    assert log.count('{"event": "started", "step": "flaky"}') == 2
    assert record.task("flaky").log == str(
        store / "runs" / "demo" / record.run_id / "logs" / "flaky.log"
    )
