"""Resuming a run (``ferry retry``): same run id, succeeded steps kept, the rest run again.

As ``argo retry`` does: the steps that succeeded keep their artifacts (they live under
the run id, which does not change) and are not run again; the failed, errored and
omitted ones run, and so does everything downstream of a step named with ``--from``.
Of a fanned-out step only the partitions that did not succeed run again, unless
``--from`` names the step or one upstream of it.
A re-run step overwrites its own artifact; loads stay idempotent because their ledger
is keyed by the run id, and ``commit-state`` moves a mark only after every target
committed, as in the first run. The exit handler runs again after the steps, as
``argo retry`` resets its nodes.
"""

from dataclasses import dataclass

from workflows.errors import UsageError
from workflows.graph import downstream_of
from workflows.runner.manifest import Plan, dependency_graph
from workflows.runner.record import RunRecord, RunStatus, TaskRecord, TaskStatus


@dataclass(frozen=True)
class Resume:
    """The run to resume and the tasks that run again."""

    record: RunRecord
    rerun: frozenset[str]
    forced: frozenset[str] = frozenset()
    """Tasks run again because ``--from`` named them or a step upstream: all of their
    partitions run again too, not only the failed ones."""

    def kept(self, task: str) -> TaskRecord | None:
        """The earlier record of ``task`` when it is kept (not run again), else None."""
        return None if task in self.rerun else self.record.task(task)

    def rerun_label(self, task: str) -> str:
        """``task``, or ``task (1 of 4 partitions)`` when some of its partitions are kept."""
        partitions = self.record.task(task).partitions
        kept = len(self.kept_partitions(task))
        if not kept:
            return task
        return f"{task} ({len(partitions) - kept} of {len(partitions)} partitions)"

    def kept_partitions(self, task: str) -> list[TaskRecord]:
        """The partitions of a fanned-out ``task`` that succeeded and are not run again."""
        if task in self.forced:
            return []
        earlier = self.record.task(task).partitions
        return [p.model_copy() for p in earlier if p.status is TaskStatus.SUCCEEDED]


def plan_resume(record: RunRecord, plan: Plan, from_step: str | None = None) -> Resume:
    """Which tasks of ``record`` run again.

    Raises:
        UsageError: the run is still running, succeeded with nothing named to redo, or
            ``from_step`` is not one of its steps (exit 2).
    """
    names = [t.name for t in plan.tasks]
    main = [t for t in record.tasks if t.hook is None]  # the exit handler runs again anyway
    if [t.name for t in main] != names:
        raise UsageError(
            f"run {record.run_id!r}: its kept manifest and its record name different steps; "
            "start a new run with ferry run"
        )
    if record.status is RunStatus.RUNNING:
        raise UsageError(
            f"run {record.run_id!r} is still running; wait for it, or stop it, then retry"
        )
    not_done = {t.name for t in main if t.status is not TaskStatus.SUCCEEDED}
    roots = set(not_done)
    if from_step is not None:
        if from_step not in names:
            raise UsageError(
                f"--from {from_step!r}: run {record.run_id!r} has no such step; "
                f"its steps: {', '.join(names)}"
            )
        roots.add(from_step)
    if not roots:
        raise UsageError(
            f"run {record.run_id!r} succeeded; nothing to retry (--from STEP runs a step and "
            "everything downstream of it again)"
        )
    graph = dependency_graph(plan.tasks)
    forced = downstream_of(graph, [from_step]) if from_step is not None else set()
    return Resume(record, frozenset(downstream_of(graph, roots)), frozenset(forced))
