"""WorkflowEventBinding builder: a pipeline's triggers -> one binding per trigger.

A binding tells argo-server which events submit the pipeline's WorkflowTemplate:
``spec.event.selector`` (an expr expression over ``payload``, ``metadata`` and
``discriminator``) must hold for an event POSTed to
``/api/v1/events/{namespace}/{discriminator}``, and each
``spec.submit.arguments.parameters[].valueFrom.event`` expression gives a workflow
parameter (argo-server: server/event/dispatch/operation.go). What the trigger
means is ``workflows.triggers``; this module only shapes the Argo object.
"""

from typing import Any

from hera.workflows import models as m

from workflows.pipeline import Pipeline
from workflows.render.manifests import common_labels
from workflows.triggers import EventTrigger, ObjectArrival, discriminator_of, event_triggers

API_VERSION = "argoproj.io/v1alpha1"


def binding_name(pipeline: Pipeline, trigger: EventTrigger | ObjectArrival) -> str:
    """``<pipeline>-<discriminator>``: unique per pipeline (discriminators do not repeat)."""
    return f"{pipeline.name}-{discriminator_of(trigger)}"


def build_event_binding(
    pipeline: Pipeline, trigger: EventTrigger | ObjectArrival
) -> dict[str, Any]:
    """The WorkflowEventBinding of one trigger, as a manifest dict."""
    parameters = [
        m.Parameter(name=name, value_from=m.ValueFrom(event=expression))
        for name, expression in trigger.parameter_expressions().items()
    ]
    binding = m.WorkflowEventBinding(
        api_version=API_VERSION,
        kind="WorkflowEventBinding",
        metadata=m.ObjectMeta(name=binding_name(pipeline, trigger), labels=common_labels(pipeline)),
        spec=m.WorkflowEventBindingSpec(
            event=m.Event(selector=trigger.event_selector()),
            submit=m.Submit(
                workflow_template_ref=m.WorkflowTemplateRef(name=pipeline.name),
                arguments=m.Arguments(parameters=parameters) if parameters else None,
            ),
        ),
    )
    return binding.model_dump(exclude_none=True, by_alias=True)  # type: ignore[no-any-return]


def build_event_bindings(pipeline: Pipeline) -> list[dict[str, Any]]:
    """One binding per event trigger, in definition order; dependency triggers have none."""
    return [build_event_binding(pipeline, trigger) for trigger in event_triggers(pipeline)]
