"""The per-pipeline Argo mutex: rendered unless the schedule allows overlapping runs."""

import pytest
from pipeline_fakes import minimal

from workflows import Schedule
from workflows.render import render_pipeline


def _synchronization(policy: str | None) -> list[object]:
    schedule = None if policy is None else Schedule(cron=["0 2 * * *"], concurrency_policy=policy)
    rendered = render_pipeline(minimal(schedule=schedule))
    return [
        rendered.documents[name]["spec"].get("synchronization")
        for name in ("workflow.yaml", "workflowtemplate.yaml")
    ]


@pytest.mark.parametrize("policy", [None, "Forbid", "Replace"])
def test_runs_of_one_pipeline_share_its_mutex(policy: str | None) -> None:
    assert (
        _synchronization(policy)
        == [{"mutexes": [{"name": "ferry-p{{workflow.parameters.interval_start}}"}]}] * 2
    )


def test_a_schedule_that_allows_overlap_renders_no_mutex() -> None:
    assert _synchronization("Allow") == [None, None]
