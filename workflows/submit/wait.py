"""Follow a Workflow until Argo reports a final phase."""

import time
from collections.abc import Callable

from workflows.errors import RunFailed
from workflows.submit.client import ArgoClient

FINAL_PHASES = ("Succeeded", "Failed", "Error")


def wait_for_workflow(
    client: ArgoClient,
    namespace: str,
    name: str,
    *,
    poll_seconds: float,
    timeout_seconds: float | None,
    on_phase: Callable[[str, str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, str]:
    """Poll ``status.phase`` until it is final; call ``on_phase`` on every change.

    Returns:
        The final phase and Argo's status message.

    Raises:
        RunFailed: the timeout passed before a final phase.
    """
    deadline = None if timeout_seconds is None else clock() + timeout_seconds
    last = ""
    while True:
        status = client.get_workflow(namespace, name).get("status") or {}
        phase = str(status.get("phase") or "Pending")
        message = str(status.get("message") or "")
        if phase != last:
            on_phase(phase, message)
            last = phase
        if phase in FINAL_PHASES:
            return phase, message
        if deadline is not None and clock() >= deadline:
            raise RunFailed(
                f"workflow {name!r} in namespace {namespace!r} is still {phase} after "
                f"{timeout_seconds:g}s; follow it with `argo watch -n {namespace} {name}`"
            )
        sleep(poll_seconds)
