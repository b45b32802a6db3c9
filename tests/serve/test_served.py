"""What ``ferry serve`` reads back from rendered documents, and what it refuses up front."""

import pytest

from workflows.errors import UsageError
from workflows.serve.intake import event_metadata
from workflows.serve.served import Binding, CronSchedule


def binding(selector: str, **parameters: str) -> dict[str, object]:
    return {
        "metadata": {"name": "p-orders"},
        "spec": {
            "event": {"selector": selector},
            "submit": {
                "workflowTemplateRef": {"name": "p"},
                "arguments": {
                    "parameters": [
                        {"name": k, "valueFrom": {"event": v}} for k, v in parameters.items()
                    ]
                },
            },
        },
    }


def test_a_binding_is_read_with_its_parameters_in_order() -> None:
    read = Binding.from_document(
        binding('discriminator == "orders"', run_date="payload.date", key="payload.key")
    )
    assert read == Binding(
        name="p-orders",
        pipeline="p",
        selector='discriminator == "orders"',
        parameters=(("run_date", "payload.date"), ("key", "payload.key")),
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            binding("payload.n + 1 > 2"),
            "WorkflowEventBinding 'p-orders', spec.event.selector 'payload.n + 1 > 2': "
            "arithmetic and concatenation ('+') at column 11 is not in Ferry's subset; change "
            "the trigger to the subset in docs/scheduling.md and render again",
        ),
        (
            binding("true", run_date="payload.date ?? 'today'"),
            "WorkflowEventBinding 'p-orders', spec.submit.arguments.parameters[0].valueFrom.event "
            "\"payload.date ?? 'today'\": the conditional or optional chaining ('?', '?:', "
            "'?.', '??') at column 14 is not in Ferry's subset; change the trigger to the subset "
            "in docs/scheduling.md and render again",
        ),
    ],
)
def test_an_expression_outside_the_subset_is_refused_by_binding_and_field(
    document: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        Binding.from_document(document)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"schedules": ["* * * * *"], "concurrencyPolicy": "Queue"},
            "pipeline 'p': CronWorkflow spec.concurrencyPolicy 'Queue' is not one of Allow, "
            "Forbid, Replace",
        ),
        (
            {},
            "pipeline 'p': CronWorkflow spec.schedules is empty; give the pipeline a cron "
            "expression",
        ),
    ],
)
def test_a_bad_cron_workflow_is_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        CronSchedule.from_cron_workflow({"spec": spec}, "p")
    assert str(caught.value) == message


def test_argo_defaults_apply_to_absent_fields() -> None:
    cron = CronSchedule.from_cron_workflow({"spec": {"schedules": ["0 2 * * *"]}}, "p")
    assert cron == CronSchedule(("0 2 * * *",), "UTC", "Allow", 0, False)


def test_metadata_holds_only_x_headers_as_lists() -> None:
    headers = [("X-Source", "ci"), ("Authorization", "Bearer t"), ("x-source", "nightly")]
    assert event_metadata(headers) == {"x-source": ["ci", "nightly"]}
