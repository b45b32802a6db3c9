"""The ``notify`` step's delivery: retries, bounds, refusals, and the secret URL kept out
of every log line, body and output, against real loopback receivers."""

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import run_step
from tests.notify.notify_testkit import (
    PIPELINE,
    SECRET_PATH,
    Notified,
    build_runs,
    leaked,
    notify,
)
from tests.sources.http_server import Reply, script, serve

FAILURE = {
    "alert": "failure",
    "workflow_status": "Failed",
    "failures": json.dumps([{"displayName": "orders", "message": "exit code 1"}]),
    "duration_seconds": "12",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_runs(tmp_path_factory.mktemp("notify-runs"))


def _files(store: Path) -> dict[str, bytes]:
    return {str(p.relative_to(store)): p.read_bytes() for p in store.rglob("*") if p.is_file()}


def _step_seconds(notified: Notified, until: str) -> float:
    """Seconds from the step's start to event ``until``, by the step's own clock."""
    return float(notified.event(until)["elapsed_s"] - notified.event("step_started")["elapsed_s"])


def _failed_delivery(notified: Notified, warning: str) -> None:
    """The run's result is unchanged: exit 0, the warning output and log line say why."""
    assert notified.result.returncode == 0, notified.result.stderr
    assert notified.outputs["warning"] == warning
    assert notified.event("step_warning")["message"] == warning
    assert not [e for e in notified.events if e["event"] == "alert_sent"]


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (Reply(500, raw=b"boom"), "last status 500 Internal Server Error ('boom')"),
        (Reply(429, raw=b"slow down", headers={"Retry-After": "0"}), None),
        (Reply(200, drop="before"), None),
    ],
    ids=["500", "429", "dropped"],
)
def test_a_transient_failure_is_retried_and_delivered(
    store: Path, tmp_path: Path, first: Reply, reason: str | None
) -> None:
    with serve({SECRET_PATH: script(first, Reply(200, raw=b"ok"))}) as receiver:
        notified = notify(store, tmp_path / "out", FAILURE, url=receiver.url(SECRET_PATH))
    assert notified.result.returncode == 0, notified.result.stderr
    assert [r.path for r in receiver.received] == [SECRET_PATH, SECRET_PATH]
    assert receiver.received[0].body == receiver.received[1].body
    assert notified.event("alert_sent")["attempts"] == 2
    retry = notified.event("webhook_retry")
    assert retry["attempt"] == 1
    if reason is not None:
        assert retry["reason"] == reason
    assert notified.outputs["warning"] == ""
    assert leaked(notified, *(r.body for r in receiver.received)) == []


def test_a_receiver_that_always_fails_gets_max_attempts_and_the_run_is_unchanged(
    store: Path, tmp_path: Path
) -> None:
    before = _files(store)
    config = {**FAILURE, "max_attempts": 3}
    with serve({SECRET_PATH: script(Reply(503, raw=b"down for maintenance"))}) as receiver:
        notified = notify(store, tmp_path / "out", config, url=receiver.url(SECRET_PATH))
    assert len(receiver.received) == 3
    _failed_delivery(
        notified,
        "webhook failed after 3 attempts: last status 503 Service Unavailable "
        "('down for maintenance')",
    )
    assert [e["attempt"] for e in notified.events if e["event"] == "webhook_retry"] == [1, 2]
    assert _files(store) == before
    assert leaked(notified, *(r.body for r in receiver.received)) == []


@pytest.mark.parametrize(
    "reply",
    [Reply(200, raw=b"ok", delay_s=5), Reply(200, raw=b"o" * 200, drip_s=0.05, drip_headers=True)],
    ids=["silent", "dripping"],
)
def test_a_hanging_receiver_is_bounded_by_the_timeout(
    store: Path, tmp_path: Path, reply: Reply
) -> None:
    """Each attempt ends at timeout_seconds, even while the receiver sends a byte at a time."""
    config = {**FAILURE, "timeout_seconds": 0.5, "max_attempts": 2}
    with serve({SECRET_PATH: script(reply)}) as receiver:
        notified = notify(store, tmp_path / "out", config, url=receiver.url(SECRET_PATH))
    assert len(receiver.received) == 2
    _failed_delivery(notified, "webhook failed after 2 attempts: no answer within 0.5 s")
    # two attempts of 0.5 s and one backoff of at most 0.5 s, with room for a loaded machine
    assert _step_seconds(notified, "step_warning") < 3.0
    assert leaked(notified, *(r.body for r in receiver.received)) == []


def test_a_receiver_that_is_not_there_is_tried_max_attempts_times(
    store: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {**FAILURE, "max_attempts": 2}
    notified = notify(store, tmp_path / "out", config, url=f"http://127.0.0.1:{port}{SECRET_PATH}")
    _failed_delivery(
        notified,
        "webhook failed after 2 attempts: ConnectionRefusedError: [Errno 111] Connection refused",
    )
    assert leaked(notified) == []


@pytest.mark.parametrize(
    ("reply", "warning"),
    [
        (
            Reply(400, raw=b"invalid_payload"),
            "webhook failed after 1 attempt: answered 400 Bad Request ('invalid_payload'); "
            "not retried",
        ),
        (
            Reply(404, raw=f"no such hook {SECRET_PATH}".encode()),
            "webhook failed after 1 attempt: answered 404 Not Found ('no such hook ***'); "
            "not retried",
        ),
        (
            Reply(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}),
            "webhook failed after 1 attempt: answered 302 Found (redirects are not followed); "
            "check the webhook URL",
        ),
    ],
    ids=["400", "404-echoing-the-url", "302"],
)
def test_a_refusal_is_not_retried(store: Path, tmp_path: Path, reply: Reply, warning: str) -> None:
    with serve({SECRET_PATH: script(reply)}) as receiver:
        notified = notify(store, tmp_path / "out", FAILURE, url=receiver.url(SECRET_PATH))
    assert len(receiver.received) == 1
    _failed_delivery(notified, warning)
    assert leaked(notified, receiver.received[0].body) == []


def test_a_secret_file_newline_around_the_url_is_ignored(store: Path, tmp_path: Path) -> None:
    with serve({SECRET_PATH: script(Reply(200))}) as receiver:
        notified = notify(store, tmp_path / "out", FAILURE, url=f"{receiver.url(SECRET_PATH)}\n")
    assert notified.result.returncode == 0, notified.result.stderr
    assert [r.path for r in receiver.received] == [SECRET_PATH]


def test_a_missing_webhook_variable_is_bad_usage(store: Path, tmp_path: Path) -> None:
    notified = notify(store, tmp_path / "out", {**FAILURE, "webhook_env": "ORDERS_HOOK"}, url=None)
    assert notified.result.returncode == 2
    assert notified.result.stderr.strip().splitlines()[-1] == (
        f"ferry: pipeline {PIPELINE!r}, step 'alert-failure': environment variable ORDERS_HOOK "
        "(webhook_env) is not set; set it to the webhook URL, or check the Secret it is "
        "rendered from (webhook_secret)"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"ftp://hooks.example{SECRET_PATH}", "it is not an http:// or https:// URL"),
        (f"http://{SECRET_PATH}", "it names no host"),
        (f"http://hooks.example:SECRET42{SECRET_PATH}", "it does not parse as a URL"),
        (f"http://hooks.example{SECRET_PATH} extra", "it holds spaces or control characters"),
    ],
    ids=["scheme", "no-host", "bad-port", "space"],
)
def test_a_webhook_variable_that_is_not_a_url_is_bad_usage_without_showing_it(
    store: Path, tmp_path: Path, url: str, problem: str
) -> None:
    notified = notify(store, tmp_path / "out", FAILURE, url=url)
    assert notified.result.returncode == 2
    assert notified.result.stderr.strip().splitlines()[-1] == (
        f"ferry: pipeline {PIPELINE!r}, step 'alert-failure': environment variable "
        f"FERRY_WEBHOOK_URL (webhook_env) does not hold a webhook URL: {problem}; set it to "
        "the http(s) URL the receiver gave you"
    )
    assert leaked(notified) == []


def test_a_failure_alert_goes_out_without_rows_the_store_cannot_give(tmp_path: Path) -> None:
    """A broken manifest costs the failure alert its row counts, not its delivery."""
    store = tmp_path / "store"
    broken = store / "artifacts" / "r-broken" / "orders"
    broken.mkdir(parents=True)
    (broken / "_manifest.json").write_text("{not json")
    with serve({SECRET_PATH: script(Reply(200))}) as receiver:
        notified = notify(
            store, tmp_path / "out", FAILURE, url=receiver.url(SECRET_PATH), run_id="r-broken"
        )
    assert notified.result.returncode == 0, notified.result.stderr
    [request] = receiver.received
    body = json.loads(request.body)
    assert (body["steps"], body["rows"]) == ([], {"in": 0, "out": 0, "rejected": 0})
    assert notified.outputs["warning"] == (
        f"the alert goes out without row counts: cannot read {store / 'artifacts' / 'r-broken'}: "
        "JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1)"
    )


def test_a_quality_alert_without_readable_rows_fails_to_be_retried(tmp_path: Path) -> None:
    store = tmp_path / "store"
    broken = store / "artifacts" / "r-broken" / "orders"
    broken.mkdir(parents=True)
    (broken / "_manifest.json").write_text("{not json")
    config = {"alert": "quality", "threshold": 0.9, "workflow_status": "Succeeded"}
    notified = notify(
        store, tmp_path / "out", config, url=f"http://127.0.0.1:9{SECRET_PATH}", run_id="r-broken"
    )
    assert notified.result.returncode == 1
    assert notified.result.stderr.strip().splitlines()[-1] == (
        f"ferry: pipeline {PIPELINE!r}, step 'alert-quality': cannot read the run's row counts "
        f"under {store / 'artifacts' / 'r-broken'}: JSONDecodeError: Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1); check the store (the step retries)"
    )


def test_the_run_is_read_from_an_s3_store(
    s3_bucket: str, s3_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "orders.csv").write_text("id,qty\n1,2\n2,x\n3,4\n")
    artifact = f"{s3_bucket}/artifacts/r-s3/orders"
    extracted = run_step(
        "extract-files",
        *("--pipeline", PIPELINE, "--step", "orders", "--run-id", "r-s3"),
        *("--store", s3_bucket, "--output", artifact),
        "--config",
        json.dumps(
            {
                "path": str(tmp_path / "orders.csv"),
                "format": "csv",
                "columns": {"id": "int64", "qty": "int64"},
                "on_bad_row": "quarantine",
            }
        ),
        env={**s3_env, "FERRY_OUTPUTS_DIR": str(tmp_path / "extract-out")},
    )
    assert extracted.returncode == 0, extracted.stderr
    config = {"alert": "rejected_share", "threshold": 0.2, "workflow_status": "Succeeded"}
    with serve({SECRET_PATH: script(Reply(200))}) as receiver:
        notified = notify(
            s3_bucket,
            tmp_path / "out",
            config,
            url=receiver.url(SECRET_PATH),
            run_id="r-s3",
            env=s3_env,
        )
    assert notified.result.returncode == 0, notified.result.stderr
    body = json.loads(receiver.received[0].body)
    assert body["steps"] == [
        {
            "step": "orders",
            "rows_in": 3,
            "rows_out": 2,
            "rows_rejected": 1,
            "quality_score": 0.666667,
        }
    ]
    assert body["value"] == 0.333333
