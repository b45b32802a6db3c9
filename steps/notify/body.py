"""The webhook bodies of an alert: Ferry's own JSON, or a Slack-compatible message.

The ``json`` body carries every fact as a typed field for a receiver that routes or
stores alerts (Alertmanager-style relays, a ticketing hook). The ``slack`` body is
what a Slack incoming webhook (or a compatible chat: Mattermost, Rocket.Chat)
shows: a one-line ``text`` (the notification) and ``mrkdwn`` section blocks.
"""

import json
from typing import Any

from steps.notify.alerts import Alert

SLACK_STEPS = 20
"""Steps listed in a Slack message; the rest are counted (Slack caps a block's text)."""


def json_body(alert: Alert) -> dict[str, Any]:
    """The ``json`` format: the alert's facts as fields."""
    rows = alert.rows
    return {
        "alert": alert.alert,
        "pipeline": alert.pipeline,
        "run_id": alert.run_id,
        "status": alert.status,
        "failed_step": alert.failed_step,
        "error": alert.error,
        "duration_seconds": alert.duration_seconds,
        "rows": {"in": rows.rows_in, "out": rows.rows_out, "rejected": rows.rows_rejected},
        "steps": [
            {
                "step": s.step,
                "rows_in": s.rows_in,
                "rows_out": s.rows_out,
                "rows_rejected": s.rows_rejected,
                "quality_score": s.quality_score,
            }
            for s in rows.steps
        ],
        "threshold": alert.threshold,
        "value": alert.value,
        "link": alert.link,
    }


def _escape(text: str) -> str:
    """``text`` safe inside Slack mrkdwn: ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def _duration(seconds: float | None) -> str:
    return "unknown" if seconds is None else f"{seconds:g} s"


def _steps_text(alert: Alert) -> str:
    lines = [
        f"• `{_escape(s.step)}` in {s.rows_in}, out {s.rows_out}, rejected {s.rows_rejected}, "
        f"quality {s.quality_score:.4f}"
        for s in alert.rows.steps[:SLACK_STEPS]
    ]
    more = len(alert.rows.steps) - SLACK_STEPS
    if more > 0:
        lines.append(f"… and {more} more steps")
    return "*Steps*\n" + "\n".join(lines)


def slack_body(alert: Alert) -> dict[str, Any]:
    """The ``slack`` format: a one-line ``text`` and section blocks in mrkdwn."""
    rows = alert.rows
    fields = [
        _field("Pipeline", f"`{_escape(alert.pipeline)}`"),
        _field("Run", f"`{_escape(alert.run_id)}`"),
        _field("Status", _escape(alert.status)),
        _field("Duration", _duration(alert.duration_seconds)),
        _field("Rows", f"in {rows.rows_in}, out {rows.rows_out}, rejected {rows.rows_rejected}"),
    ]
    if alert.threshold is not None and alert.value is not None:
        fields.append(_field("Measured", f"{alert.value:g} (threshold {alert.threshold:g})"))
    blocks: list[dict[str, Any]] = [
        _section(f"*{_escape(alert.summary)}*"),
        {"type": "section", "fields": fields},
    ]
    if alert.error:
        step = f" in `{_escape(alert.failed_step)}`" if alert.failed_step else ""
        blocks.append(_section(f"*Error{step}*\n```{_escape(alert.error)}```"))
    if rows.steps:
        blocks.append(_section(_steps_text(alert)))
    if alert.link:
        blocks.append(_section(f"<{alert.link}|Open the run>"))
    return {"text": alert.summary, "blocks": blocks}


def render_body(alert: Alert, body_format: str) -> bytes:
    """The POST body of ``alert`` in ``body_format`` (``json`` or ``slack``), as UTF-8 JSON."""
    document = slack_body(alert) if body_format == "slack" else json_body(alert)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
