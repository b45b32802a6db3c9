"""Event triggers of a pipeline: what starts a run besides the schedule and a person.

A trigger renders as an Argo WorkflowEventBinding (``workflows.render.events``): an
event POSTed to argo-server's ``/api/v1/events/{namespace}/{discriminator}`` whose
selector holds submits the pipeline's WorkflowTemplate, with workflow parameters
taken from the event by expression. Selector and parameter expressions are held to
the subset in ``workflows.event_selector``, which the local server will evaluate
the same way.

Example:
    >>> trigger = EventTrigger(
    ...     discriminator="orders-ready",
    ...     selector='payload.kind == "daily"',
    ...     parameters={"run_date": "payload.date"},
    ... )
    >>> arrival = ObjectArrival(bucket="landing", prefix="orders/", suffix=".csv",
    ...                         parameters={"input_key": "key"})
    >>> after = AfterPipeline(pipeline="orders-daily")

A dependency trigger (:class:`AfterPipeline`) is no event: it renders into the
*upstream's* exit handler (``workflows.render.exit_handler``), which creates a Workflow
from this pipeline's WorkflowTemplate once the upstream run succeeded.
"""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows import event_selector
from workflows.errors import DefinitionError
from workflows.graph import find_cycle

if TYPE_CHECKING:
    from workflows.pipeline import Pipeline

TRIGGER_PARAMS = ("run_date", "interval_start", "interval_end")
"""Built-in parameters an event may set; ``store`` is the deployment's, never an event's."""

MAX_DISCRIMINATOR = 63
"""A discriminator is a DNS-1123 label: one safe URL path segment, and part of a name."""

OBJECT_CREATED = "s3:ObjectCreated:"
"""Prefix of MinIO's (and S3's) ``EventName`` of every kind of object creation."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class _TriggerModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTrigger(_TriggerModel):
    """Start a run when a matching event arrives at argo-server's events endpoint."""

    kind: Literal["event"] = Field(default="event", description="Trigger kind (YAML: event).")
    discriminator: str = Field(
        description="Last path segment of /api/v1/events/{namespace}/{discriminator}: a "
        "lowercase DNS label (letters, digits, '-'), at most 63 characters."
    )
    selector: str | None = Field(
        default=None,
        description="Extra condition on the event in Ferry's expr subset, e.g. "
        "'payload.kind == \"daily\"'; combined with the discriminator by &&.",
    )
    parameters: dict[str, str] = Field(
        default={},
        description="Workflow parameter -> expression giving its value from the event, e.g. "
        "{'run_date': 'payload.date'}; each a pipeline param or run_date, interval_start, "
        "interval_end.",
    )

    def event_selector(self) -> str:
        """The binding's ``spec.event.selector``: the discriminator and the user's selector."""
        own = f"discriminator == {event_selector.quote(self.discriminator)}"
        return f"{own} && ({self.selector})" if self.selector else own

    def parameter_expressions(self) -> dict[str, str]:
        """Workflow parameter -> ``valueFrom.event`` expression."""
        return dict(self.parameters)


OBJECT_FIELDS = ("key", "bucket", "path", "size", "etag", "event_name", "event_time")
"""What an ObjectArrival parameter may take from MinIO's webhook body."""


class ObjectArrival(_TriggerModel):
    """Start a run when an object lands in a bucket (MinIO's webhook bucket notification).

    MinIO's webhook target POSTs ``{"EventName": "s3:ObjectCreated:Put", "Key":
    "<bucket>/<key>", "Records": [<S3 event record>]}``; ``Key`` is the object key
    already URL-decoded (``Records[0].s3.object.key`` is URL-encoded), so the key
    Ferry passes is ``Key`` without ``<bucket>/``.
    """

    kind: Literal["object-arrival"] = Field(
        default="object-arrival", description="Trigger kind (YAML: object-arrival)."
    )
    bucket: str = Field(description="Bucket the objects land in.")
    prefix: str = Field(default="", description="Only keys starting with this, e.g. 'orders/'.")
    suffix: str = Field(default="", description="Only keys ending with this, e.g. '.csv'.")
    discriminator: str | None = Field(
        default=None,
        description="Path segment MinIO posts to; None uses the bucket name with '.' as '-'.",
    )
    parameters: dict[str, str] = Field(
        default={},
        description="Workflow parameter -> object field: key (without the bucket), bucket, "
        "path (bucket/key), size, etag, event_name, event_time.",
    )

    def effective_discriminator(self) -> str:
        """The discriminator given, or one made from the bucket name."""
        return self.discriminator or self.bucket.replace(".", "-")

    def event_selector(self) -> str:
        """Discriminator, an object creation, and the key's bucket, prefix and suffix."""
        quote = event_selector.quote
        parts = [
            f"discriminator == {quote(self.effective_discriminator())}",
            f"hasPrefix(payload.EventName, {quote(OBJECT_CREATED)})",
            f"hasPrefix(payload.Key, {quote(self.bucket + '/' + self.prefix)})",
        ]
        if self.suffix:
            parts.append(f"hasSuffix(payload.Key, {quote(self.suffix)})")
        return " && ".join(parts)

    def parameter_expressions(self) -> dict[str, str]:
        """Workflow parameter -> ``valueFrom.event`` expression over MinIO's body."""
        record = "payload.Records[0]"
        fields = {
            "key": f"trimPrefix(payload.Key, {event_selector.quote(self.bucket + '/')})",
            "bucket": f"{record}.s3.bucket.name",
            "path": "payload.Key",
            "size": f"{record}.s3.object.size",
            "etag": f"{record}.s3.object.eTag",
            "event_name": "payload.EventName",
            "event_time": f"{record}.eventTime",
        }
        return {name: fields.get(field, field) for name, field in self.parameters.items()}


class AfterPipeline(_TriggerModel):
    """Start a run after a run of another pipeline (the upstream) succeeded.

    Rendered without Argo Events: the upstream's WorkflowTemplate gets an exit handler
    task ``when: "{{workflow.status}} == Succeeded"`` whose resource template creates a
    Workflow from this pipeline's WorkflowTemplate, passing the parameters on.
    """

    kind: Literal["after-pipeline"] = Field(
        default="after-pipeline", description="Trigger kind (YAML: after-pipeline)."
    )
    pipeline: str = Field(description="Name of the upstream pipeline, one Ferry discovers too.")
    parameters: dict[str, str] = Field(
        default={"run_date": "run_date"},
        description="This pipeline's parameter -> the upstream's parameter whose value it "
        "takes; by default run_date from run_date.",
    )


EventKind = EventTrigger | ObjectArrival
"""The triggers that render as a WorkflowEventBinding."""

Trigger = Annotated[EventTrigger | ObjectArrival | AfterPipeline, Field(discriminator="kind")]
"""Any trigger, told apart by ``kind``."""


def event_triggers(pipeline: "Pipeline") -> list[EventKind]:
    """The pipeline's event and object-arrival triggers, in definition order."""
    return [t for t in pipeline.triggers if not isinstance(t, AfterPipeline)]


def dependents_of(
    upstream: str, pipelines: Mapping[str, "Pipeline"]
) -> list[tuple[str, AfterPipeline]]:
    """(downstream pipeline, its trigger) for every pipeline that runs after ``upstream``.

    Sorted by the downstream's name, so rendering is stable.
    """
    return [
        (name, trigger)
        for name, pipeline in sorted(pipelines.items())
        for trigger in pipeline.triggers
        if isinstance(trigger, AfterPipeline) and trigger.pipeline == upstream
    ]


def check_dependency_triggers(pipelines: Mapping[str, "Pipeline"]) -> None:
    """Refuse dependency triggers that name an unknown upstream or parameter, or form a cycle.

    Raises:
        DefinitionError: naming the downstream pipeline and the trigger, or every
            pipeline of a cycle in run order.
    """
    from workflows.pipeline import BUILTIN_PARAMS

    for name, pipeline in sorted(pipelines.items()):
        for index, trigger in enumerate(pipeline.triggers):
            if not isinstance(trigger, AfterPipeline):
                continue
            where = f"triggers[{index}]"
            upstream = pipelines.get(trigger.pipeline)
            if upstream is None:
                known = ", ".join(sorted(set(pipelines) - {name})) or "none"
                raise DefinitionError(
                    name,
                    None,
                    f"{where}.pipeline",
                    f"no pipeline named {trigger.pipeline!r} among the discovered pipelines "
                    f"(known: {known}); name one of them or add it to --pipelines",
                )
            offered = [p for p in BUILTIN_PARAMS if p != "store"] + list(upstream.params)
            for own, theirs in trigger.parameters.items():
                if theirs not in offered:
                    raise DefinitionError(
                        name,
                        None,
                        f"{where}.parameters.{own}",
                        f"pipeline {trigger.pipeline!r} has no parameter {theirs!r} to pass on; "
                        f"use one of {', '.join(offered)}",
                    )
    graph = {
        name: [t.pipeline for t in p.triggers if isinstance(t, AfterPipeline)]
        for name, p in pipelines.items()
    }
    cycle = find_cycle(graph)
    if cycle is not None:
        path = " -> ".join(reversed(cycle))
        raise DefinitionError(
            cycle[0],
            None,
            "triggers",
            f"dependency triggers form a cycle: {path}; a run would start itself again, "
            "remove one of these triggers",
        )


def discriminator_of(trigger: EventTrigger | ObjectArrival) -> str:
    """The discriminator a trigger's events are posted under."""
    if isinstance(trigger, ObjectArrival):
        return trigger.effective_discriminator()
    return trigger.discriminator


def check_triggers(pipeline: "Pipeline") -> None:
    """Refuse a bad trigger naming the pipeline, the trigger and the field.

    Raises:
        DefinitionError: a discriminator that is no DNS label or repeats, an expression
            outside Ferry's subset, a parameter that is not the pipeline's.
    """
    known = sorted(TRIGGER_PARAMS + tuple(pipeline.params))
    seen: dict[str, int] = {}
    upstreams: dict[str, int] = {}
    for index, trigger in enumerate(pipeline.triggers):
        where = f"triggers[{index}]"

        def fail(field: str, message: str, where: str = where) -> DefinitionError:
            return DefinitionError(pipeline.name, None, f"{where}.{field}", message)

        if isinstance(trigger, AfterPipeline):
            _check_after_pipeline(pipeline, trigger, fail, known, upstreams.get(trigger.pipeline))
            upstreams[trigger.pipeline] = index
            continue

        discriminator = discriminator_of(trigger)
        field = (
            "bucket"
            if isinstance(trigger, ObjectArrival) and not trigger.discriminator
            else ("discriminator")
        )
        if len(discriminator) > MAX_DISCRIMINATOR or not _DNS_LABEL.match(discriminator):
            raise fail(
                field,
                f"discriminator {discriminator!r} is not a DNS label (lowercase letters, digits "
                f"and '-', at most {MAX_DISCRIMINATOR} characters), as the events URL and the "
                "binding's name need",
            )
        if discriminator in seen:
            raise fail(
                field,
                f"discriminator {discriminator!r} is already used by "
                f"triggers[{seen[discriminator]}]; one binding per discriminator "
                "(combine the conditions in one selector)",
            )
        seen[discriminator] = index
        if isinstance(trigger, EventTrigger) and trigger.selector is not None:
            _check_expression(fail, "selector", trigger.selector)
        if isinstance(trigger, ObjectArrival):
            if not trigger.bucket:
                raise fail("bucket", "the bucket is empty")
            for name, object_field in trigger.parameters.items():
                if object_field not in OBJECT_FIELDS:
                    raise fail(
                        f"parameters.{name}",
                        f"{object_field!r} is not an object field; use one of "
                        f"{', '.join(OBJECT_FIELDS)}",
                    )
        for name, expression in trigger.parameter_expressions().items():
            if name == "store":
                raise fail(
                    f"parameters.{name}",
                    "'store' is the deployment's setting and cannot come from an event",
                )
            if name not in known:
                raise fail(
                    f"parameters.{name}",
                    f"unknown parameter {name!r}; an event may set {', '.join(known)} "
                    "(declare it in Pipeline.params)",
                )
            _check_expression(fail, f"parameters.{name}", expression)


def _check_after_pipeline(
    pipeline: "Pipeline",
    trigger: AfterPipeline,
    fail: "_Fail",
    known: list[str],
    earlier: int | None,
) -> None:
    """What a dependency trigger must hold on its own; the upstream is checked with the others."""
    if trigger.pipeline == pipeline.name:
        raise fail("pipeline", "a pipeline cannot run after itself (a cycle); name another one")
    if earlier is not None:
        raise fail(
            "pipeline",
            f"pipeline {trigger.pipeline!r} is already named by triggers[{earlier}]; "
            "one trigger per upstream pipeline",
        )
    for name in trigger.parameters:
        if name == "store":
            raise fail(
                f"parameters.{name}",
                "'store' is the deployment's setting and is not passed between pipelines",
            )
        if name not in known:
            raise fail(
                f"parameters.{name}",
                f"unknown parameter {name!r}; a dependency trigger may set {', '.join(known)} "
                "(declare it in Pipeline.params)",
            )


def _check_expression(fail: "_Fail", field: str, text: str) -> None:
    try:
        event_selector.parse(text)
    except event_selector.SelectorError as err:
        raise fail(field, f"{text!r}: {err}") from None


if TYPE_CHECKING:
    from collections.abc import Callable

    _Fail = Callable[..., DefinitionError]
