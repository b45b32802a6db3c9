"""The pipelines ``ferry serve`` runs, read back from their rendered manifests.

Each pipeline is rendered in memory, as ``ferry run`` renders its Workflow, and the
scheduler reads the CronWorkflow (``schedules``, ``timezone``, ``concurrencyPolicy``,
``startingDeadlineSeconds``, ``suspend``) and the WorkflowEventBindings (selector,
template, ``valueFrom.event`` parameters) from those documents, never from the
Python definition. Only what to watch for an ObjectArrival trigger (bucket, prefix,
suffix) comes from the definition: the binding itself still decides the run.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from workflows import event_selector
from workflows.errors import UsageError
from workflows.intervals import Interval, fire_times_after, interval_ending_at
from workflows.pipeline import Schedule
from workflows.triggers import ObjectArrival

Policy = Literal["Allow", "Forbid", "Replace"]
POLICIES: tuple[Policy, ...] = ("Allow", "Forbid", "Replace")

ARGO_DEFAULT_POLICY: Policy = "Allow"
"""Argo's ``concurrencyPolicy`` when the field is absent."""


@dataclass(frozen=True)
class CronSchedule:
    """The schedule fields of a rendered CronWorkflow's spec."""

    schedules: tuple[str, ...]
    timezone: str
    concurrency_policy: Policy
    starting_deadline_seconds: int
    suspend: bool

    @classmethod
    def from_cron_workflow(cls, document: Mapping[str, Any], pipeline: str) -> "CronSchedule":
        """Read the spec of a CronWorkflow document.

        Raises:
            UsageError: no schedules, or a policy Argo does not know (exit 2).
        """
        spec = document.get("spec") or {}
        where = f"pipeline {pipeline!r}: CronWorkflow spec"
        schedules = tuple(spec.get("schedules") or ())
        if not schedules:
            raise UsageError(f"{where}.schedules is empty; give the pipeline a cron expression")
        policy = spec.get("concurrencyPolicy") or ARGO_DEFAULT_POLICY
        if policy not in POLICIES:
            raise UsageError(
                f"{where}.concurrencyPolicy {policy!r} is not one of {', '.join(POLICIES)}"
            )
        return cls(
            schedules=schedules,
            timezone=str(spec.get("timezone") or "UTC"),
            concurrency_policy=policy,
            starting_deadline_seconds=int(spec.get("startingDeadlineSeconds") or 0),
            suspend=bool(spec.get("suspend", False)),
        )

    def _schedule(self) -> Schedule:
        return Schedule(cron=list(self.schedules), timezone=self.timezone)

    def fires_after(self, after: datetime, until: datetime, limit: int) -> list[datetime]:
        """Fire times in ``(after, until]``, oldest first, the newest ``limit`` at most."""
        return fire_times_after(self._schedule(), after, until, limit)

    def interval(self, fire: datetime) -> Interval:
        """The data interval of the run at ``fire`` (``workflows.intervals``)."""
        return interval_ending_at(self._schedule(), fire)


@dataclass(frozen=True)
class Binding:
    """A rendered WorkflowEventBinding: which events start which pipeline, with what."""

    name: str
    pipeline: str
    selector: str
    parameters: tuple[tuple[str, str], ...]
    """Workflow parameter -> its ``valueFrom.event`` expression, in rendered order."""

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "Binding":
        """Read a binding and check every expression is in Ferry's subset.

        Raises:
            UsageError: an expression outside the subset, named by binding and field (exit 2).
        """
        name = str((document.get("metadata") or {}).get("name"))
        spec = document.get("spec") or {}
        submit = spec.get("submit") or {}
        selector = str((spec.get("event") or {}).get("selector") or "")
        _check(name, "spec.event.selector", selector)
        parameters = []
        for index, raw in enumerate((submit.get("arguments") or {}).get("parameters") or []):
            expression = str((raw.get("valueFrom") or {}).get("event") or "")
            field = f"spec.submit.arguments.parameters[{index}].valueFrom.event"
            _check(name, field, expression)
            parameters.append((str(raw.get("name")), expression))
        template = str((submit.get("workflowTemplateRef") or {}).get("name"))
        return cls(name=name, pipeline=template, selector=selector, parameters=tuple(parameters))


def _check(binding: str, field: str, expression: str) -> None:
    try:
        event_selector.parse(expression)
    except event_selector.SelectorError as err:
        raise UsageError(
            f"WorkflowEventBinding {binding!r}, {field} {expression!r}: {err}; change the "
            "trigger to the subset in docs/scheduling.md and render again"
        ) from None


@dataclass(frozen=True)
class ServedPipeline:
    """One pipeline as the server runs it."""

    name: str
    cron: CronSchedule | None
    bindings: tuple[Binding, ...]
    arrivals: tuple[ObjectArrival, ...]

    @property
    def policy(self) -> Policy:
        """How its runs may overlap: the schedule's policy; Forbid without a schedule.

        The rendered mutex (``synchronization.mutexes``) holds every run of a pipeline
        whose schedule does not say Allow, so an unscheduled pipeline's event runs wait
        for each other on the cluster, and here too.
        """
        return self.cron.concurrency_policy if self.cron else "Forbid"


def load_served(paths: Sequence[str]) -> dict[str, ServedPipeline]:
    """Find, validate and render every pipeline under ``paths``; read back what serve needs.

    Raises:
        DefinitionError: a pipeline does not validate (exit 2).
        UsageError: no pipelines found, or a rendered expression outside the subset (exit 2).
    """
    from workflows.discovery import find_pipelines
    from workflows.render import render_pipeline
    from workflows.render.output import CRON_WORKFLOW_FILE

    found = find_pipelines(list(paths))
    if not found:
        raise UsageError(f"--pipelines {', '.join(paths)}: no pipelines found there")
    served = {}
    for name, item in sorted(found.items()):
        rendered = render_pipeline(item.pipeline)
        cron_doc = rendered.documents.get(CRON_WORKFLOW_FILE)
        served[name] = ServedPipeline(
            name=name,
            cron=CronSchedule.from_cron_workflow(cron_doc, name) if cron_doc else None,
            bindings=tuple(Binding.from_document(d) for d in rendered.event_bindings),
            arrivals=tuple(t for t in item.pipeline.triggers if isinstance(t, ObjectArrival)),
        )
    return served
