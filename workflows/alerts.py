"""Alerts of a pipeline: who is told, on a webhook, when a run fails, is slow or is poor.

An alert is rendered as a task of the workflow's exit handler (the SLA alert: a
workflow hook that fires while the run still goes) running the ``notify`` step kind
of the step image (``workflows.render.alerts``). The step itself decides whether
its alert fires, from Argo's ``workflow.status`` / ``workflow.failures`` /
``workflow.duration`` and the run's artifacts in the store, and POSTs to the
webhook whose URL it reads from an environment variable filled from a Secret.

Example:
    >>> from workflows import SecretRef
    >>> hook = SecretRef(name="ferry-alerts", key="slack-url")
    >>> alerts = [
    ...     Alert(on="failure", webhook_secret=hook, format="slack"),
    ...     Alert(on="quality", threshold=0.98, webhook_secret=hook),
    ...     Alert(on="sla", threshold=3600, webhook_secret=hook),
    ...     Alert(on="rejected_share", threshold=0.01, webhook_secret=hook),
    ... ]
"""

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from steps.contract import PARAMETER_ENV_PREFIX
from steps.databases.config import SecretRef
from workflows.errors import DefinitionError

if TYPE_CHECKING:
    from workflows.pipeline import Pipeline

AlertKind = Literal["failure", "quality", "sla", "rejected_share"]
"""What an alert watches (the ``notify`` step's ``alert`` field)."""

DEFAULT_WEBHOOK_ENV = "FERRY_WEBHOOK_URL"
"""The environment variable the webhook URL reaches the step in, by default."""

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class Alert(BaseModel):
    """A webhook told about runs: on failure, low quality, a long run (SLA) or many rejects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on: AlertKind = Field(
        description="failure: the run did not succeed; quality: a checks step's quality "
        "score is below threshold; sla: the run is still going after threshold seconds; "
        "rejected_share: rejected rows over rows in, summed over steps, is above threshold."
    )
    threshold: float | None = Field(
        default=None,
        description="quality: lowest accepted score (0..1); rejected_share: highest accepted "
        "share (0..1); sla: longest accepted run in seconds. None for failure.",
    )
    webhook_secret: SecretRef = Field(
        description="The Kubernetes Secret key holding the webhook URL (the URL is a secret: "
        "it never appears in logs or bodies)."
    )
    webhook_env: str = Field(
        default=DEFAULT_WEBHOOK_ENV,
        description="Environment variable the URL is put in; locally, export it.",
    )
    format: Literal["json", "slack"] = Field(
        default="json", description="Body: Ferry's JSON document, or a Slack-compatible message."
    )
    link_base: str = Field(
        default="",
        description="Start of the run page URL for humans, e.g. "
        "'https://argo.example.com/workflows/etl'; the run id is appended after a '/'.",
    )
    timeout_seconds: float = Field(
        default=10, gt=0, description="Bound of one webhook POST, in seconds."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Most POST attempts (connection errors, 429, 5xx)."
    )


def alert_names(pipeline: "Pipeline") -> list[str]:
    """The task (and template) name of each alert: ``alert-<on>``, ``alert-<on>-2``, ..."""
    names = []
    seen: dict[str, int] = {}
    for alert in pipeline.alerts:
        base = "alert-" + alert.on.replace("_", "-")
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def check_alerts(pipeline: "Pipeline") -> None:
    """Refuse an alert whose threshold, webhook variable or name does not fit.

    Raises:
        DefinitionError: naming the pipeline, ``alerts[i]`` and the field.
    """
    from workflows.pipeline import Checks

    steps = {node.name for node in pipeline.nodes()}
    for index, (alert, name) in enumerate(zip(pipeline.alerts, alert_names(pipeline), strict=True)):
        where = f"alerts[{index}]"

        def fail(field: str, message: str, where: str = where) -> DefinitionError:
            return DefinitionError(pipeline.name, None, f"{where}.{field}", message)

        if alert.on == "failure" and alert.threshold is not None:
            raise fail("threshold", "a failure alert has no threshold; remove it")
        if alert.on != "failure" and alert.threshold is None:
            raise fail("threshold", f"a {alert.on} alert needs a threshold")
        if alert.on in ("quality", "rejected_share") and not 0 <= (alert.threshold or 0) <= 1:
            raise fail("threshold", f"{alert.threshold} is a share and must be within 0..1")
        if alert.on == "sla" and (alert.threshold or 0) <= 0:
            raise fail("threshold", f"{alert.threshold} must be a positive number of seconds")
        if alert.on == "quality" and not pipeline.of_kind(Checks):
            raise fail("on", "a quality alert needs a Checks step in the pipeline; add one")
        if not _ENV_NAME.match(alert.webhook_env) or alert.webhook_env.startswith(
            PARAMETER_ENV_PREFIX
        ):
            raise fail(
                "webhook_env",
                f"{alert.webhook_env!r} is not an environment variable name of upper-case "
                f"letters, digits and '_' outside {PARAMETER_ENV_PREFIX}*",
            )
        if name in steps:
            raise fail("on", f"the alert's task {name!r} has the name of a step; rename the step")
