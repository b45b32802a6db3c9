"""The exit handler and timed hooks, run locally as Argo's controller runs them."""

import json
from pathlib import Path
from typing import Any

import pytest
from runner_testkit import argv, container, mark, run, statuses, workflow

from workflows.errors import UsageError
from workflows.runner import RunStatus, TaskStatus

SUCCEEDED = "{{workflow.status}} == Succeeded"
NOT_SUCCEEDED = "{{workflow.status}} != Succeeded"
FAILURE_KEYS = {"displayName", "message", "templateName", "phase", "podName", "finishedAt"}
EXIT_ARGS = ("--", "{{workflow.status}}", "{{workflow.duration}}", "{{workflow.failures}}")


def with_exit_handler(
    main: list[dict[str, Any]], exit_tasks: list[dict[str, Any]], templates: list[dict[str, Any]]
) -> dict[str, Any]:
    manifest = workflow(main, hooks={"exit": {"template": "exit-handler"}})
    manifest["spec"]["templates"] += [
        {"name": "exit-handler", "dag": {"tasks": exit_tasks}},
        *templates,
    ]
    return manifest


def test_the_exit_handler_runs_after_the_dag_with_status_duration_and_no_failures(
    store: Path, marks: Path
) -> None:
    manifest = with_exit_handler(
        [container("a")],
        [{"name": "notify", "template": "notify"}],
        [container("notify", *EXIT_ARGS)],
    )

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.SUCCEEDED
    assert statuses(record) == {"a": "Succeeded", "notify": "Succeeded"}
    assert record.task("notify").hook == "exit"
    assert mark(marks, "notify", "start") >= mark(marks, "a", "end")
    status, duration, failures = argv(marks, "notify")
    assert status == "Succeeded"
    assert 0 < float(duration) < 60
    assert json.loads(json.loads(failures)) is None


def test_failures_carry_argos_fields_and_when_picks_the_tasks(store: Path, marks: Path) -> None:
    manifest = with_exit_handler(
        [container("a", "--exit", "1", "--message", "boom at row 7")],
        [
            {"name": "on-success", "template": "on-success", "when": SUCCEEDED},
            {"name": "on-failure", "template": "on-failure", "when": NOT_SUCCEEDED},
        ],
        [container("on-success"), container("on-failure", *EXIT_ARGS)],
    )

    record, shown = run(manifest, store, marks)

    assert record.status is RunStatus.FAILED
    assert record.message == "step 'a': boom at row 7"
    assert "↷ on-success skipped: when '{{workflow.status}} == Succeeded' was false" in shown
    assert statuses(record) == {"a": "Failed", "on-success": "Skipped", "on-failure": "Succeeded"}
    assert record.task("on-success").reason == "when '{{workflow.status}} == Succeeded' was false"
    assert not (marks / "on-success.start").exists()
    status, _, failures = argv(marks, "on-failure")
    assert status == "Failed"
    (failure,) = json.loads(json.loads(failures))
    assert set(failure) == FAILURE_KEYS
    assert failure["displayName"] == "a"
    assert failure["message"] == "boom at row 7"
    assert failure["phase"] == "Failed"
    assert failure["podName"].startswith(record.run_id + "-a-")


def test_a_failing_exit_handler_fails_a_succeeded_run(store: Path, marks: Path) -> None:
    manifest = with_exit_handler(
        [container("a")],
        [{"name": "notify", "template": "notify"}],
        [container("notify", "--exit", "1", "--message", "webhook down")],
    )

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.FAILED
    assert record.message == "exit handler: step 'notify': webhook down"
    assert statuses(record) == {"a": "Succeeded", "notify": "Failed"}


def test_a_failing_exit_handler_leaves_a_failed_runs_message(store: Path, marks: Path) -> None:
    manifest = with_exit_handler(
        [container("a", "--exit", "1", "--message", "bad input")],
        [{"name": "notify", "template": "notify"}],
        [container("notify", "--exit", "1", "--message", "webhook down")],
    )

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.FAILED
    assert record.message == "step 'a': bad input"


def test_on_exit_names_a_container_template_directly(store: Path, marks: Path) -> None:
    manifest = workflow([container("a")], onExit="cleanup")
    manifest["spec"]["templates"].append(container("cleanup", *EXIT_ARGS))

    record, _ = run(manifest, store, marks)

    assert statuses(record) == {"a": "Succeeded", "cleanup": "Succeeded"}
    assert argv(marks, "cleanup")[0] == "Succeeded"


def test_a_timed_hook_fires_while_the_run_is_still_going(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("slow", "--sleep", "3")],
        hooks={
            "sla": {
                "template": "late",
                "expression": 'workflow.status == "Running" && asFloat(workflow.duration) > 1',
            },
            "never": {
                "template": "late-never",
                "expression": 'workflow.status == "Running" && asFloat(workflow.duration) > 600',
            },
        },
    )
    manifest["spec"]["templates"] += [
        container("late", "--", "{{workflow.status}}", "{{workflow.duration}}"),
        container("late-never"),
    ]

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.SUCCEEDED
    assert statuses(record) == {"slow": "Succeeded", "sla": "Succeeded"}
    assert record.task("sla").hook == "sla"
    assert mark(marks, "late", "start") < mark(marks, "slow", "end")
    status, duration = argv(marks, "late")
    assert status == "Running"
    assert float(duration) >= 1


def test_a_failing_hook_stops_nothing(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("slow", "--sleep", "2")],
        hooks={
            "sla": {
                "template": "late",
                "expression": 'workflow.status == "Running" && asFloat(workflow.duration) > 0.5',
            }
        },
    )
    manifest["spec"]["templates"].append(container("late", "--exit", "1"))

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.SUCCEEDED
    assert record.task("sla").status is TaskStatus.FAILED


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"when": "{{workflow.status}} =~ Succ"},
            "spec.templates[3].dag.tasks[0].when: '{{workflow.status}} =~ Succ' is not supported "
            "by the local runner; use 'A == B' or 'A != B' of a tag such as {{workflow.status}} "
            "and a word",
        ),
        (
            {"depends": "other"},
            "spec.templates[3].dag.tasks[0].depends: not supported in an exit handler by "
            "the local runner",
        ),
    ],
)
def test_exit_tasks_outside_the_subset_are_refused(
    store: Path, marks: Path, change: dict[str, Any], problem: str
) -> None:
    manifest = with_exit_handler(
        [container("a")], [{"name": "notify", "template": "notify", **change}], []
    )
    manifest["spec"]["templates"].insert(2, container("notify"))

    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks)

    assert problem in str(caught.value)
    assert not marks.exists()


def test_a_hook_expression_outside_the_subset_is_refused(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("a")],
        hooks={"late": {"template": "a", "expression": "workflow.duration > 10"}},
    )

    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks)

    assert str(caught.value).endswith(
        "spec.hooks.late.expression: 'workflow.duration > 10' is not supported by the local "
        "runner; use 'workflow.status == \"Running\" && asFloat(workflow.duration) > SECONDS'"
    )


def test_exit_variables_are_refused_in_the_main_dag(store: Path, marks: Path) -> None:
    manifest = workflow([container("a", "--", "{{workflow.failures}}")])

    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks)

    assert "unknown variable {{workflow.failures}}" in str(caught.value)


def test_when_on_the_main_dag_is_refused(store: Path, marks: Path) -> None:
    manifest = workflow([container("a")])
    manifest["spec"]["templates"][0]["dag"]["tasks"][0]["when"] = "{{workflow.name}} == x"

    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks)

    assert str(caught.value).endswith(
        "spec.templates[0].dag.tasks[0].when: not supported by the local runner outside an "
        "exit handler"
    )


def test_a_resource_template_other_than_creating_a_workflow_is_refused(
    store: Path, marks: Path
) -> None:
    manifest = with_exit_handler(
        [container("a")],
        [{"name": "cleanup", "template": "cleanup"}],
        [
            {
                "name": "cleanup",
                "resource": {"action": "delete", "manifest": "kind: ConfigMap\n"},
            }
        ],
    )

    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks)

    assert str(caught.value).endswith(
        "spec.templates[3].resource.action: 'delete' is not supported by the local runner; "
        "only create; spec.templates[3].resource.manifest: the local runner creates only a "
        "Workflow whose spec is a workflowTemplateRef with arguments (a dependency trigger)"
    )


def test_a_retried_run_runs_its_exit_handler_again(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runner_testkit import INLINE_PYTHON

    from workflows.runner import parse
    from workflows.runner.resume import plan_resume

    manifest = with_exit_handler(
        [container("a", "--fail-first", "1")],
        [{"name": "notify", "template": "notify"}],
        [container("notify", *EXIT_ARGS)],
    )
    first, _ = run(manifest, store, marks)
    assert statuses(first) == {"a": "Failed", "notify": "Succeeded"}
    assert argv(marks, "notify")[0] == "Failed"

    monkeypatch.setattr(parse, "ACCEPTED_COMMANDS", (*parse.ACCEPTED_COMMANDS, INLINE_PYTHON))
    resume = plan_resume(first, parse.build_plan(manifest))
    again, _ = run(manifest, store, marks, resume=resume)

    assert again.run_id == first.run_id
    assert again.status is RunStatus.SUCCEEDED
    assert statuses(again) == {"a": "Succeeded", "notify": "Succeeded"}
    assert argv(marks, "notify")[0] == "Succeeded"
