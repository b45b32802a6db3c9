"""``ferry backfill --submit``: one Workflow per data interval on the cluster.

Each interval becomes its own Workflow from the installed WorkflowTemplate, exactly
what ``ferry submit`` (and ``argo submit --from``) creates, with that interval's
``run_date``/``interval_start``/``interval_end``. Not one fan-out Workflow calling the
pipeline by ``templateRef`` over ``withItems``: the steps read their parameters as
``{{workflow.parameters.*}}``, which one Workflow has once, not per item; and one
Workflow per interval is what ``argo retry``, the Argo UI and ``--reprocess`` (which
reads the earlier Workflows' parameters and phases) work with.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workflows.runner.record import RunRecord, RunStatus
from workflows.submit.client import ArgoClient
from workflows.submit.wait import wait_for_workflow
from workflows.submit.workflow import TEMPLATE_LABEL, build_workflow

_STATUS = {
    "Succeeded": RunStatus.SUCCEEDED,
    "Failed": RunStatus.FAILED,
    "Error": RunStatus.ERROR,
}


def _parameters(workflow: Mapping[str, Any]) -> dict[str, str]:
    arguments = (workflow.get("spec") or {}).get("arguments") or {}
    return {
        str(p.get("name")): str(p.get("value", ""))
        for p in arguments.get("parameters") or []
        if isinstance(p, dict)
    }


def _created(workflow: Mapping[str, Any]) -> datetime:
    stamp = str((workflow.get("metadata") or {}).get("creationTimestamp") or "")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)


def as_run_record(workflow: Mapping[str, Any], pipeline: str, namespace: str) -> RunRecord:
    """A cluster Workflow as the run record ``--reprocess`` and the summary read."""
    status = workflow.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    return RunRecord(
        run_id=str((workflow.get("metadata") or {}).get("name", "")),
        pipeline=pipeline,
        source=f"workflowtemplate/{pipeline}",
        store=f"namespace {namespace}",
        parameters=_parameters(workflow),
        status=_STATUS.get(phase, RunStatus.RUNNING),
        message=str(status.get("message") or "") or None,
        started=_created(workflow),
        tasks=[],
    )


def cluster_runs(client: ArgoClient, namespace: str, pipeline: str) -> list[RunRecord]:
    """The pipeline's Workflows in the namespace, newest first, as run records."""
    found = client.list_workflows(namespace, f"{TEMPLATE_LABEL}={pipeline}")
    records = [as_run_record(w, pipeline, namespace) for w in found]
    return sorted(records, key=lambda r: r.started, reverse=True)


def interval_workflow(
    pipeline: str, namespace: str, parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The Workflow submitted for one interval (sorted parameters: a stable body)."""
    return build_workflow(pipeline, sorted(parameters.items()), namespace)


def submit_and_wait(
    client: ArgoClient,
    namespace: str,
    pipeline: str,
    parameters: Mapping[str, str],
    *,
    poll_seconds: float,
    timeout_seconds: float | None,
) -> RunRecord:
    """Create one interval's Workflow and follow it to its final phase."""
    created = client.create_workflow(namespace, interval_workflow(pipeline, namespace, parameters))
    name = str(created["metadata"]["name"])
    wait_for_workflow(
        client,
        namespace,
        name,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
        on_phase=lambda phase, message: None,
    )
    return as_run_record(client.get_workflow(namespace, name), pipeline, namespace)
