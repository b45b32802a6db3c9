"""Alerts end to end: ``ferry run`` executes the rendered exit handler, whose ``notify``
tasks (the real step) POST to a loopback webhook, with the URL only in the environment."""

import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ferry_cli import ferry

PIPELINE = """\
from workflows import (
    Alert, Checks, FilesExtract, ParquetDatasetLoad, Pipeline, RetryPolicy, SecretRef, Source,
    Target, NotNull,
)

HOOK = SecretRef(name="ferry-alerts", key="url")

pipeline = Pipeline(
    name="watched",
    retry=RetryPolicy(limit=0),
    alerts=[
        Alert(on="failure", webhook_secret=HOOK, link_base="http://ui.invalid/runs"),
        Alert(on="quality", threshold=0.95, webhook_secret=HOOK, format="slack"),
    ],
    steps=[
        Source(name="orders", config=FilesExtract(
            path="data/orders.csv", format="csv",
            columns={"id": "int64", "amount": "float64"})),
        Checks(name="checked", input="orders", rules=[NotNull(column="amount")],
               threshold={threshold}),
        Target(name="out", input="checked", config=ParquetDatasetLoad(path="lake/orders")),
    ],
)
"""

SECRET = "/hooks/T0SECRET42/xoxSecret42"


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "body": json.loads(body)})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{SECRET}", received
    finally:
        server.shutdown()
        server.server_close()


def project(tmp_path: Path, threshold: float, csv: str = "id,amount\n1,10\n2,\n3,5\n4,7\n") -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "watched.py").write_text(
        textwrap.dedent(PIPELINE).replace("{threshold}", str(threshold))
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text(csv)
    return folder


def run(tmp_path: Path, folder: Path, url: str) -> tuple[int, dict[str, Any], str]:
    result = ferry(
        "run", "watched", "--pipelines", str(folder), "--store", "store", "--output", "json",
        cwd=tmp_path, env={"FERRY_WEBHOOK_URL": url},
    )  # fmt: skip
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_failed_run_alerts_once_per_alert_with_the_failing_step(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    code, record, err = run(tmp_path, project(tmp_path, threshold=0.9), url)

    assert code == 1, err
    assert record["status"] == "Failed"
    exit_tasks = {t["name"]: t["status"] for t in record["tasks"] if t.get("hook") == "exit"}
    assert exit_tasks == {"alert-failure": "Succeeded", "alert-quality": "Succeeded"}
    assert sorted(r["path"] for r in received) == [SECRET, SECRET]
    by_kind = {r["body"].get("alert", "slack"): r["body"] for r in received}
    failure = by_kind["failure"]
    assert (failure["pipeline"], failure["run_id"], failure["status"]) == (
        "watched",
        record["run_id"],
        "Failed",
    )
    assert failure["failed_step"] == "checked"
    assert failure["link"] == f"http://ui.invalid/runs/{record['run_id']}"
    assert failure["rows"]["rejected"] == 1
    slack = by_kind["slack"]
    assert "watched" in slack["text"] and "0.75" in slack["text"]
    assert isinstance(slack["blocks"], list) and slack["blocks"]
    logs = "".join(p.read_text() for p in (tmp_path / "store" / "runs").rglob("*.log"))
    assert "SECRET42" not in logs + err + json.dumps(record)


def test_a_run_that_passes_its_gate_still_alerts_on_quality_below_the_alerts_threshold(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    code, record, err = run(tmp_path, project(tmp_path, threshold=0.5), url)

    assert code == 0, err
    assert record["status"] == "Succeeded"
    assert [r["body"]["text"].split(":")[0] for r in received] == ["Ferry"]
    assert "0.7500" in json.dumps(received[0]["body"])


def test_a_healthy_run_sends_nothing(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    folder = project(tmp_path, threshold=0.5, csv="id,amount\n1,10\n2,3\n")
    code, record, err = run(tmp_path, folder, url)

    assert code == 0, err
    assert record["status"] == "Succeeded"
    exit_tasks = {t["name"]: t["status"] for t in record["tasks"] if t.get("hook") == "exit"}
    assert exit_tasks == {"alert-failure": "Skipped", "alert-quality": "Succeeded"}
    assert received == []
