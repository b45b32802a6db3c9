"""Whether an alert fires, and the facts of the run it reports.

Each alert decides for itself from what the run reported: the workflow's status
and failures (failure), the lowest quality score of a checks step (quality), the
share of rejected rows (rejected_share) or the run's duration (sla). The same
:class:`Alert` then feeds both body formats, so they never disagree.
"""

import re
from dataclasses import dataclass

from steps.notify.config import NotifyConfig
from steps.notify.run_rows import RunRows

NOT_FAILED = ("Succeeded", "Running")
"""Workflow statuses the failure alert stays quiet on."""

ERROR_CHARS = 1000
"""An error message is cut to this many characters (one line, for chat and mail)."""

_RETRY_SUFFIX = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class Verdict:
    """Whether the alert fires, the measured value that decided it, and why, in words."""

    firing: bool
    value: float | None
    reason: str


@dataclass(frozen=True)
class Alert:
    """Everything an alert's body says about the run."""

    alert: str
    pipeline: str
    run_id: str
    status: str
    failed_step: str | None
    error: str | None
    duration_seconds: float | None
    rows: RunRows
    threshold: float | None
    value: float | None
    link: str
    summary: str
    """One line saying what happened, for a chat message or a mail subject."""


def one_line(text: str, limit: int = ERROR_CHARS) -> str:
    """``text`` as a single line of at most ``limit`` characters."""
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"


def first_failure(config: NotifyConfig, run_id: str) -> tuple[str | None, str | None]:
    """The failed step and its one-line error: the failure that finished first.

    Argo lists failed nodes in no particular order, and with them the nodes that
    failed because a child did: the workflow's own node (its display name is the
    run id), the DAG, a retried step's parent. The earliest finished is the cause;
    entries without ``finishedAt`` come after, in the order given, and the run's
    own node is skipped. Argo names a retried step's attempts ``step(0)``,
    ``step(1)``; the attempt number is dropped, so the name is the step's.
    """
    entries = [e for e in config.failure_entries() if e.get("displayName") != run_id]
    if not entries:
        return None, None
    entry = min(entries, key=lambda e: (not e.get("finishedAt"), str(e.get("finishedAt") or "")))
    name = str(entry.get("displayName") or entry.get("templateName") or "")
    message = str(entry.get("message") or "")
    return (_RETRY_SUFFIX.sub("", name) or None), (one_line(message) or None)


def decide(config: NotifyConfig, rows: RunRows) -> Verdict:
    """Whether ``config``'s alert fires for a run with this status, duration and rows."""
    status = config.workflow_status
    if config.alert == "failure":
        firing = status not in NOT_FAILED
        return Verdict(firing, None, f"the run's status is {status}")
    threshold = config.threshold
    assert threshold is not None  # the config refuses these alerts without one
    if config.alert == "sla":
        duration = config.duration()
        assert duration is not None  # the config refuses the sla alert without it
        over = duration > threshold
        relation = "over" if over else "within"
        return Verdict(
            over,
            duration,
            f"the run has taken {duration:g} s, {relation} its {threshold:g} s limit",
        )
    if config.alert == "rejected_share":
        share = round(rows.rejected_share, 6)
        over = share > threshold
        return Verdict(
            over,
            share,
            f"{rows.rows_rejected} of {rows.rows_in} rows rejected (share {share:.4f}), "
            f"{'over' if over else 'not over'} the limit {threshold:g}",
        )
    checks = rows.checks_steps()
    if not checks:
        return Verdict(False, None, "no checks step of the run wrote a quality report")
    worst = checks[0]
    below = worst.quality_score < threshold
    return Verdict(
        below,
        worst.quality_score,
        f"lowest quality score {worst.quality_score:.4f} (step {worst.step!r}) is "
        f"{'below' if below else 'not below'} the threshold {threshold:g}",
    )


def _summary(config: NotifyConfig, pipeline: str, run_id: str, failed_step: str | None) -> str:
    where = f"pipeline {pipeline} run {run_id}"
    if config.alert == "failure":
        at = f" at step {failed_step}" if failed_step else ""
        return f"Ferry: {where} {config.workflow_status}{at}"
    kinds = {"sla": "SLA missed", "quality": "low data quality", "rejected_share": "rows rejected"}
    return f"Ferry: {where}: {kinds[config.alert]}"


def build_alert(
    config: NotifyConfig, pipeline: str, run_id: str, rows: RunRows, verdict: Verdict
) -> Alert:
    """The facts a firing alert reports, for :mod:`steps.notify.body`."""
    failed_step, error = first_failure(config, run_id)
    summary = _summary(config, pipeline, run_id, failed_step)
    if config.alert != "failure":
        summary = f"{summary}: {verdict.reason}"
    elif error:
        summary = f"{summary}: {error}"
    return Alert(
        alert=config.alert,
        pipeline=pipeline,
        run_id=run_id,
        status=config.workflow_status,
        failed_step=failed_step,
        error=error,
        duration_seconds=config.duration(),
        rows=rows,
        threshold=config.threshold,
        value=verdict.value,
        link=config.link,
        summary=one_line(summary),
    )
