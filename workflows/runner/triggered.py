"""Run a manifest and then the runs its dependency triggers created, as the cluster would.

On Argo the upstream's exit handler creates a Workflow from the downstream's
WorkflowTemplate, which the controller then runs on its own. Locally the same
resource task records the new run's id (:mod:`workflows.runner.exit_run`) and this
module runs it afterwards, from the downstream's rendered manifest, on the same
store, with the parameters the trigger passed and ``triggered_by`` set; its own
triggers are followed in turn. Every manifest of the chain is checked before the
first run starts, so an unknown WorkflowTemplate or a cycle is refused up front.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.errors import UsageError
from workflows.runner.exit_run import CreatedRun
from workflows.runner.parse import build_plan
from workflows.runner.record import RunRecord
from workflows.runner.run import run_manifest


@dataclass(frozen=True)
class TriggerTarget:
    """The rendered manifest of a WorkflowTemplate a dependency trigger creates runs of."""

    manifest: dict[str, Any]
    source: str
    python_path: list[Path] = field(default_factory=list)


Resolve = Callable[[str], TriggerTarget]
"""WorkflowTemplate name -> its rendered manifest; raises UsageError when there is none."""


def check_chain(manifest: dict[str, Any], source: str, resolve: Resolve) -> None:
    """Refuse, before anything runs, a trigger whose manifest is missing, unfit or cyclic.

    Raises:
        UsageError: the WorkflowTemplate cannot be found, its manifest is refused, a
            trigger passes a parameter it does not declare, or triggers form a cycle.
    """
    _check(manifest, source, resolve, [])


def _check(manifest: dict[str, Any], source: str, resolve: Resolve, chain: list[str]) -> None:
    plan = build_plan(manifest, source=source)
    if plan.pipeline in chain:
        path = " -> ".join([*chain[chain.index(plan.pipeline) :], plan.pipeline])
        raise UsageError(f"{source}: dependency triggers form a cycle: {path}; remove one")
    if plan.exit_handler is None:
        return
    for resource in plan.exit_handler.resources.values():
        target = resolve(resource.workflow_template)
        downstream = build_plan(target.manifest, source=target.source)
        declared = {p.name for p in downstream.parameters}
        unknown = sorted(set(resource.parameters) - declared)
        if unknown:
            raise UsageError(
                f"{source}: template {resource.name!r} passes {', '.join(unknown)} to "
                f"{target.source}, which declares no such parameter; render both again"
            )
        _check(target.manifest, target.source, resolve, [*chain, plan.pipeline])


def run_with_triggers(
    manifest: dict[str, Any],
    *,
    source: str,
    resolve: Resolve | None,
    parameters: dict[str, str] | None = None,
    python_path: list[Path] | None = None,
    **options: Any,
) -> list[RunRecord]:
    """Run ``manifest``, then each run its dependency triggers created, in creation order.

    Args:
        manifest: the Workflow to run first.
        source: how messages name it.
        resolve: finds a WorkflowTemplate's manifest; None turns dependency triggers
            off (``ferry run --no-triggers``): their tasks are recorded Skipped.
        parameters: ``-p`` values of the first run (triggered runs get the trigger's).
        python_path: folders the first run's steps import from.
        **options: passed to every :func:`~workflows.runner.run_manifest` call
            (``store``, ``parallelism``, ``view``, ``no_cache``, ...).

    Returns:
        The records, the first run's first.

    Raises:
        UsageError: a trigger's manifest is missing or refused (nothing was started).
    """
    if resolve is not None:
        check_chain(manifest, source, resolve)
    records = []
    queue: list[tuple[TriggerTarget, CreatedRun | None]] = [
        (TriggerTarget(manifest, source, list(python_path or [])), None)
    ]
    while queue:
        target, created = queue.pop(0)
        made: list[CreatedRun] = []
        records.append(
            run_manifest(
                target.manifest,
                source=target.source,
                parameters=created.parameters if created else parameters,
                python_path=target.python_path,
                triggers=resolve is not None,
                triggered=created,
                created_runs=made,
                **options,
            )
        )
        if resolve is not None:
            queue += [(resolve(run.workflow_template), run) for run in made]
    return records
