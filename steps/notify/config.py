"""The typed config of ``notify``: which alert, where it goes, what the workflow reported.

The workflow-level fields (``workflow_status``, ``failures``, ``duration_seconds``)
are the text Argo substitutes for ``{{workflow.status}}``, ``{{workflow.failures}}``
and ``{{workflow.duration}}`` in an exit handler, so they arrive as strings and are
parsed here: a value that does not parse is a bad config (exit 2), not a silent
alert without its facts.
"""

import ast
import json
import math
import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from steps.databases.config import SecretRef
from steps.runtime.config import SecretEnv, StepConfig

AlertKind = Literal["failure", "quality", "sla", "rejected_share"]
"""The alerts a pipeline can declare."""

THRESHOLD_MEANING: dict[str, str] = {
    "quality": "the minimum quality score (0..1) of any checks step",
    "rejected_share": "the maximum share (0..1) of rejected rows over rows in",
    "sla": "the maximum run duration in seconds",
}
"""What ``threshold`` is for each alert that takes one (``failure`` takes none)."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _decode(text: str) -> Any:
    r"""JSON text, or a quoted string literal of it, decoded to its value.

    Argo hands ``{{workflow.failures}}`` over quoted by Go's ``strconv.Quote`` (so that
    substitution keeps its inner quotes): the JSON list arrives as a string literal
    holding it, ``null`` as ``"null"``. That layer is taken off as JSON or, for the
    one escape of Go's JSON lacks (``\U`` and 8 hex digits, a non-printable character
    beyond U+FFFF), as a Python string literal.
    """
    try:
        document = json.loads(text)
    except ValueError as err:
        if not text.startswith('"'):
            raise
        try:
            document = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise err from None
    return json.loads(document) if isinstance(document, str) else document


def _failure_entries(text: str) -> list[dict[str, Any]]:
    """The objects of Argo's ``{{workflow.failures}}``; empty for ``""`` or ``null``."""
    if not text.strip():
        return []
    try:
        document = _decode(text.strip())
    except ValueError as err:
        raise ValueError(
            f"failures is not JSON ({err}); pass Argo's {{{{workflow.failures}}}} as it is"
        ) from None
    if document is None:
        return []
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise ValueError(
            "failures is not a JSON list of objects (displayName, message, ...); pass Argo's "
            "{{workflow.failures}} as it is"
        )
    return document


class NotifyConfig(StepConfig):
    """Send one alert of a run to a webhook when its condition holds.

    Runs in the workflow's exit handler, after the run's steps: it reads what they
    wrote to the store for this run id, decides itself whether the alert fires, and
    POSTs a JSON or Slack-compatible body. A webhook that cannot be reached never
    changes the run's result.
    """

    KIND: ClassVar[str] = "notify"
    ROLE: ClassVar[str] = "notify"

    alert: AlertKind = Field(
        description="Which alert this step sends: failure (the run did not succeed), quality "
        "(a checks step scored below threshold), sla (the run took longer than threshold "
        "seconds) or rejected_share (rejected rows over rows in above threshold)."
    )
    webhook_env: str = Field(
        default="FERRY_WEBHOOK_URL",
        description="Environment variable holding the webhook URL. The URL is a secret: it "
        "never appears in logs, bodies, errors or output parameters.",
    )
    webhook_secret: SecretRef | None = Field(
        default=None,
        description="Kubernetes Secret key rendered into webhook_env as a secretKeyRef; the "
        "local runner reads webhook_env from its own environment instead.",
    )
    format: Literal["json", "slack"] = Field(
        default="json",
        description="Body format: json (Ferry's own fields, for any receiver) or slack (text "
        "and mrkdwn section blocks, for a Slack incoming webhook or a compatible one).",
    )
    workflow_status: str = Field(
        min_length=1,
        description="The run's status, Argo's {{workflow.status}}: Succeeded, Failed, Error "
        "(or Running, for an alert sent while the run goes on).",
    )
    failures: str = Field(
        default="",
        description="Argo's {{workflow.failures}}: a JSON list of objects with displayName, "
        "message, templateName, phase, podName and finishedAt; empty or null when nothing "
        "failed. The first entry names the failed step and its error.",
    )
    duration_seconds: str = Field(
        default="",
        description="Argo's {{workflow.duration}}: the run's duration in seconds so far (may "
        "have a fraction); empty when unknown.",
    )
    threshold: float | None = Field(
        default=None,
        description="quality: minimum quality score (0..1) of any checks step; "
        "rejected_share: maximum share (0..1) of rejected rows over rows in, summed over the "
        "run's steps; sla: maximum run duration in seconds. Required for those three, "
        "refused for failure.",
    )
    link: str = Field(
        default="",
        description="A URL for people, put in the body: the run's page in the Ferry UI or "
        "the Argo UI.",
    )
    timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Wall-time bound of one POST attempt: connecting, sending and waiting "
        "for the answer.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Attempts of the POST in all; connection errors, timeouts, 408, 429 and "
        "5xx are retried with capped backoff, other answers are not.",
    )

    @field_validator("webhook_env")
    @classmethod
    def _env_name(cls, name: str) -> str:
        if not _ENV_NAME.match(name):
            raise ValueError(f"webhook_env {name!r} is not an environment variable name")
        return name

    @field_validator("failures")
    @classmethod
    def _failures_parse(cls, text: str) -> str:
        _failure_entries(text)
        return text

    @field_validator("duration_seconds")
    @classmethod
    def _duration_parses(cls, text: str) -> str:
        if text.strip():
            try:
                seconds = float(text)
            except ValueError:
                seconds = -1.0
            if not (math.isfinite(seconds) and seconds >= 0):
                raise ValueError(
                    f"duration_seconds {text!r} is not a number of seconds; pass Argo's "
                    "{{workflow.duration}}"
                )
        return text

    @model_validator(mode="after")
    def _threshold_fits_alert(self) -> "NotifyConfig":
        if self.alert == "failure":
            if self.threshold is not None:
                raise ValueError("the failure alert takes no threshold; remove it")
            return self
        meaning = THRESHOLD_MEANING[self.alert]
        if self.alert == "sla" and not self.duration_seconds.strip():
            raise ValueError(
                "the sla alert needs duration_seconds: pass Argo's {{workflow.duration}}"
            )
        if self.threshold is None:
            raise ValueError(f"the {self.alert} alert needs threshold: {meaning}")
        if self.alert == "sla" and not self.threshold > 0:
            raise ValueError(f"threshold {self.threshold:g} of the sla alert must be over 0")
        if self.alert != "sla" and not 0 <= self.threshold <= 1:
            raise ValueError(
                f"threshold {self.threshold:g} of the {self.alert} alert is not between 0 and "
                f"1: {meaning}"
            )
        return self

    def failure_entries(self) -> list[dict[str, Any]]:
        """The parsed ``failures``, in Argo's order."""
        return _failure_entries(self.failures)

    def duration(self) -> float | None:
        """The run's duration in seconds, or None when Argo gave none."""
        return float(self.duration_seconds) if self.duration_seconds.strip() else None

    def secret_envs(self) -> list[SecretEnv]:
        """The webhook URL's Secret as ``webhook_env``, when one is configured."""
        if self.webhook_secret is None:
            return []
        return [
            SecretEnv(
                env=self.webhook_env,
                secret_name=self.webhook_secret.name,
                secret_key=self.webhook_secret.key,
            )
        ]
