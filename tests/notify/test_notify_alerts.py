"""The ``notify`` step's alerts: the exact body of each kind in both formats, built from
a real run's artifacts, and the silence of an alert under its threshold."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.notify.notify_testkit import PIPELINE, SECRET_PATH, build_runs, leaked, notify
from tests.sources.http_server import Reply, script, serve

LINK = "http://127.0.0.1:2746/workflows/ferry/r-ok"
FAILURES = json.dumps(
    [
        {
            "displayName": "orders-checked(1)",
            "message": "check failed: quality score 0.7143 < 0.9000\n(exit code 3)",
            "templateName": "orders-checked",
            "phase": "Failed",
            "podName": "r-failed-orders-checked-2718281828",
            "finishedAt": "2026-12-01T03:00:07Z",
        }
    ]
)
ERROR = "check failed: quality score 0.7143 < 0.9000 (exit code 3)"

ORDERS = {"step": "orders", "rows_in": 8, "rows_out": 7, "rows_rejected": 1, "quality_score": 0.875}
CHECKED = {
    "step": "orders-checked",
    "rows_in": 7,
    "rows_out": 5,
    "rows_rejected": 2,
    "quality_score": 0.714286,
}
BY_STATUS = {
    "step": "by-status",
    "rows_in": 5,
    "rows_out": 2,
    "rows_rejected": 0,
    "quality_score": 1.0,
}

CONFIGS: dict[str, dict[str, Any]] = {
    "failure": {
        "alert": "failure",
        "workflow_status": "Failed",
        "failures": FAILURES,
        "duration_seconds": "42.5",
        "link": LINK,
    },
    "quality": {
        "alert": "quality",
        "threshold": 0.9,
        "workflow_status": "Succeeded",
        "failures": "null",
        "duration_seconds": "61",
        "link": LINK,
    },
    "rejected_share": {
        "alert": "rejected_share",
        "threshold": 0.1,
        "workflow_status": "Succeeded",
        "duration_seconds": "61",
        "link": LINK,
    },
    "sla": {
        "alert": "sla",
        "threshold": 60,
        "workflow_status": "Running",
        "failures": "",
        "duration_seconds": "125.25",
        "link": LINK,
    },
}
RUN_OF = {"failure": "r-failed", "quality": "r-ok", "rejected_share": "r-ok", "sla": "r-ok"}

SUMMARY = {
    "failure": f"Ferry: pipeline orders-daily run r-failed Failed at step orders-checked: {ERROR}",
    "quality": "Ferry: pipeline orders-daily run r-ok: low data quality: lowest quality score "
    "0.7143 (step 'orders-checked') is below the threshold 0.9",
    "rejected_share": "Ferry: pipeline orders-daily run r-ok: rows rejected: 3 of 20 rows "
    "rejected (share 0.1500), over the limit 0.1",
    "sla": "Ferry: pipeline orders-daily run r-ok: SLA missed: the run has taken 125.25 s, "
    "over its 60 s limit",
}

JSON_BODIES: dict[str, dict[str, Any]] = {
    "failure": {
        "alert": "failure",
        "pipeline": PIPELINE,
        "run_id": "r-failed",
        "status": "Failed",
        "failed_step": "orders-checked",
        "error": ERROR,
        "duration_seconds": 42.5,
        "rows": {"in": 15, "out": 12, "rejected": 3},
        "steps": [ORDERS, CHECKED],
        "threshold": None,
        "value": None,
        "link": LINK,
    },
    "quality": {
        "alert": "quality",
        "pipeline": PIPELINE,
        "run_id": "r-ok",
        "status": "Succeeded",
        "failed_step": None,
        "error": None,
        "duration_seconds": 61.0,
        "rows": {"in": 20, "out": 14, "rejected": 3},
        "steps": [BY_STATUS, ORDERS, CHECKED],
        "threshold": 0.9,
        "value": 0.714286,
        "link": LINK,
    },
    "rejected_share": {
        "alert": "rejected_share",
        "pipeline": PIPELINE,
        "run_id": "r-ok",
        "status": "Succeeded",
        "failed_step": None,
        "error": None,
        "duration_seconds": 61.0,
        "rows": {"in": 20, "out": 14, "rejected": 3},
        "steps": [BY_STATUS, ORDERS, CHECKED],
        "threshold": 0.1,
        "value": 0.15,
        "link": LINK,
    },
    "sla": {
        "alert": "sla",
        "pipeline": PIPELINE,
        "run_id": "r-ok",
        "status": "Running",
        "failed_step": None,
        "error": None,
        "duration_seconds": 125.25,
        "rows": {"in": 20, "out": 14, "rejected": 3},
        "steps": [BY_STATUS, ORDERS, CHECKED],
        "threshold": 60.0,
        "value": 125.25,
        "link": LINK,
    },
}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


STEPS_OK = _section(
    "*Steps*\n"
    "• `by-status` in 5, out 2, rejected 0, quality 1.0000\n"
    "• `orders` in 8, out 7, rejected 1, quality 0.8750\n"
    "• `orders-checked` in 7, out 5, rejected 2, quality 0.7143"
)
OPEN = _section(f"<{LINK}|Open the run>")

SLACK_BODIES: dict[str, dict[str, Any]] = {
    "failure": {
        "text": SUMMARY["failure"],
        "blocks": [
            _section(
                "*Ferry: pipeline orders-daily run r-failed Failed at step orders-checked: "
                "check failed: quality score 0.7143 &lt; 0.9000 (exit code 3)*"
            ),
            {
                "type": "section",
                "fields": [
                    _mrkdwn("*Pipeline*\n`orders-daily`"),
                    _mrkdwn("*Run*\n`r-failed`"),
                    _mrkdwn("*Status*\nFailed"),
                    _mrkdwn("*Duration*\n42.5 s"),
                    _mrkdwn("*Rows*\nin 15, out 12, rejected 3"),
                ],
            },
            _section(
                "*Error in `orders-checked`*\n"
                "```check failed: quality score 0.7143 &lt; 0.9000 (exit code 3)```"
            ),
            _section(
                "*Steps*\n"
                "• `orders` in 8, out 7, rejected 1, quality 0.8750\n"
                "• `orders-checked` in 7, out 5, rejected 2, quality 0.7143"
            ),
            OPEN,
        ],
    },
    "quality": {
        "text": SUMMARY["quality"],
        "blocks": [
            _section(f"*{SUMMARY['quality']}*"),
            {
                "type": "section",
                "fields": [
                    _mrkdwn("*Pipeline*\n`orders-daily`"),
                    _mrkdwn("*Run*\n`r-ok`"),
                    _mrkdwn("*Status*\nSucceeded"),
                    _mrkdwn("*Duration*\n61 s"),
                    _mrkdwn("*Rows*\nin 20, out 14, rejected 3"),
                    _mrkdwn("*Measured*\n0.714286 (threshold 0.9)"),
                ],
            },
            STEPS_OK,
            OPEN,
        ],
    },
    "rejected_share": {
        "text": SUMMARY["rejected_share"],
        "blocks": [
            _section(f"*{SUMMARY['rejected_share']}*"),
            {
                "type": "section",
                "fields": [
                    _mrkdwn("*Pipeline*\n`orders-daily`"),
                    _mrkdwn("*Run*\n`r-ok`"),
                    _mrkdwn("*Status*\nSucceeded"),
                    _mrkdwn("*Duration*\n61 s"),
                    _mrkdwn("*Rows*\nin 20, out 14, rejected 3"),
                    _mrkdwn("*Measured*\n0.15 (threshold 0.1)"),
                ],
            },
            STEPS_OK,
            OPEN,
        ],
    },
    "sla": {
        "text": SUMMARY["sla"],
        "blocks": [
            _section(f"*{SUMMARY['sla']}*"),
            {
                "type": "section",
                "fields": [
                    _mrkdwn("*Pipeline*\n`orders-daily`"),
                    _mrkdwn("*Run*\n`r-ok`"),
                    _mrkdwn("*Status*\nRunning"),
                    _mrkdwn("*Duration*\n125.25 s"),
                    _mrkdwn("*Rows*\nin 20, out 14, rejected 3"),
                    _mrkdwn("*Measured*\n125.25 (threshold 60)"),
                ],
            },
            STEPS_OK,
            OPEN,
        ],
    },
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_runs(tmp_path_factory.mktemp("notify-runs"))


@pytest.mark.parametrize("body_format", ["json", "slack"])
@pytest.mark.parametrize("alert", sorted(CONFIGS))
def test_a_firing_alert_posts_its_exact_body(
    store: Path, tmp_path: Path, alert: str, body_format: str
) -> None:
    config = {**CONFIGS[alert], "format": body_format}
    with serve({SECRET_PATH: script(Reply(200, raw=b"ok"))}) as receiver:
        notified = notify(
            store, tmp_path / "out", config, url=receiver.url(SECRET_PATH), run_id=RUN_OF[alert]
        )
    assert notified.result.returncode == 0, notified.result.stderr
    [request] = receiver.received
    assert (request.method, request.path) == ("POST", SECRET_PATH)
    assert request.headers["Content-Type"] == "application/json"
    expected = JSON_BODIES[alert] if body_format == "json" else SLACK_BODIES[alert]
    assert json.loads(request.body) == expected
    sent = notified.event("alert_sent")
    assert (sent["alert"], sent["attempts"], sent["status"]) == (alert, 1, 200)
    assert sent["summary"] == SUMMARY[alert]
    assert notified.outputs["warning"] == ""
    assert leaked(notified, request.body) == []


NOT_FIRING = {
    "failure": (
        {**CONFIGS["failure"], "workflow_status": "Succeeded", "failures": "null"},
        "r-ok",
        "alert failure not firing: the run's status is Succeeded",
    ),
    "failure-running": (
        {**CONFIGS["failure"], "workflow_status": "Running", "failures": ""},
        "r-ok",
        "alert failure not firing: the run's status is Running",
    ),
    "quality": (
        {**CONFIGS["quality"], "threshold": 0.7},
        "r-ok",
        "alert quality not firing: lowest quality score 0.7143 (step 'orders-checked') is not "
        "below the threshold 0.7",
    ),
    "rejected_share": (
        {**CONFIGS["rejected_share"], "threshold": 0.15},
        "r-ok",
        "alert rejected_share not firing: 3 of 20 rows rejected (share 0.1500), not over the "
        "limit 0.15",
    ),
    "sla": (
        {**CONFIGS["sla"], "duration_seconds": "59.9"},
        "r-ok",
        "alert sla not firing: the run has taken 59.9 s, within its 60 s limit",
    ),
    "quality-without-checks": (
        {**CONFIGS["quality"]},
        "r-without-steps",
        "alert quality not firing: no checks step of the run wrote a quality report",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_FIRING))
def test_an_alert_under_its_threshold_sends_nothing(store: Path, tmp_path: Path, case: str) -> None:
    config, run_id, message = NOT_FIRING[case]
    with serve({SECRET_PATH: script(Reply(200))}) as receiver:
        notified = notify(
            store, tmp_path / "out", config, url=receiver.url(SECRET_PATH), run_id=run_id
        )
    assert notified.result.returncode == 0, notified.result.stderr
    assert receiver.received == []
    assert notified.event("alert_not_firing")["message"] == message
    assert notified.outputs["warning"] == ""
    assert leaked(notified) == []


def test_a_run_whose_check_failed_reports_the_rows_it_committed(
    store: Path, tmp_path: Path
) -> None:
    """The failed check committed its artifact and report: the quality alert sees it too."""
    config = {**CONFIGS["quality"], "workflow_status": "Failed", "failures": FAILURES}
    with serve({SECRET_PATH: script(Reply(204))}) as receiver:
        notified = notify(
            store, tmp_path / "out", config, url=receiver.url(SECRET_PATH), run_id="r-failed"
        )
    assert notified.result.returncode == 0, notified.result.stderr
    [request] = receiver.received
    body = json.loads(request.body)
    assert (body["failed_step"], body["error"], body["value"]) == (
        "orders-checked",
        ERROR,
        0.714286,
    )
    assert body["steps"] == [ORDERS, CHECKED]
    assert notified.event("alert_sent")["status"] == 204


def test_workflow_variables_reach_the_config_as_parameters(store: Path, tmp_path: Path) -> None:
    """Argo substitutes ``{{workflow.failures}}`` as raw text: it arrives in an environment
    variable and a ``${param:...}`` placeholder, so its quotes and newlines stay data."""
    config = {
        **CONFIGS["failure"],
        "workflow_status": "${param:workflow_status}",
        "failures": "${param:workflow_failures}",
        "duration_seconds": "${param:workflow_duration}",
    }
    env = {
        "FERRY_PARAM_workflow_status": "Failed",
        "FERRY_PARAM_workflow_failures": FAILURES,
        "FERRY_PARAM_workflow_duration": "42.5",
    }
    with serve({SECRET_PATH: script(Reply(200))}) as receiver:
        notified = notify(
            store,
            tmp_path / "out",
            config,
            url=receiver.url(SECRET_PATH),
            run_id="r-failed",
            env=env,
        )
    assert notified.result.returncode == 0, notified.result.stderr
    assert json.loads(receiver.received[0].body) == JSON_BODIES["failure"]


def test_argo_failures_name_the_step_that_failed_first(store: Path, tmp_path: Path) -> None:
    """As the controller sends it: quoted once more, in map order, with the nodes that
    failed because a child did (the run's own node, the retried step's parent)."""
    attempt = json.loads(FAILURES)[0]
    nodes = [
        {
            **attempt,
            "displayName": "r-failed",
            "templateName": "main",
            "podName": "r-failed",
            "message": "child 'r-failed-2718281828' failed",
            "finishedAt": "2026-12-01T03:00:09Z",
        },
        {
            **attempt,
            "displayName": "orders-checked",
            "message": "No more retries left",
            "finishedAt": "2026-12-01T03:00:08Z",
        },
        attempt,
        {
            **attempt,
            "displayName": "orders-checked(0)",
            "finishedAt": None,
            "message": "pod deleted",
        },
    ]
    config = {**CONFIGS["failure"], "failures": json.dumps(json.dumps(nodes))}
    with serve({SECRET_PATH: script(Reply(200))}) as receiver:
        notified = notify(
            store, tmp_path / "out", config, url=receiver.url(SECRET_PATH), run_id="r-failed"
        )
    assert notified.result.returncode == 0, notified.result.stderr
    assert json.loads(receiver.received[0].body) == JSON_BODIES["failure"]
