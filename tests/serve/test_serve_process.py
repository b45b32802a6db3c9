"""``ferry serve`` as a user runs it: a real process, real HTTP on loopback, real runs."""

import json
import subprocess
from pathlib import Path

import pytest
from serve_testkit import FERRY, PIPELINES, ServeProcess, start_serve, wait_for, write_data

from workflows.runner import RunRecord, RunStatus, list_runs


def finished(served: ServeProcess, pipeline: str) -> list[dict[str, object]]:
    return [line for line in served.events("finish") if line["pipeline"] == pipeline]


def only_run(tmp_path: Path, pipeline: str) -> RunRecord:
    records = list_runs(str(tmp_path / ".ferry"), pipeline)
    assert len(records) == 1, [r.run_id for r in records]
    return records[0]


@pytest.mark.slow
def test_serve_runs_schedules_events_and_arrivals_then_stops_cleanly(tmp_path: Path) -> None:
    write_data(tmp_path)
    landing = tmp_path / "buckets" / "landing" / "orders"
    landing.mkdir(parents=True)
    served = start_serve(
        tmp_path, "--buckets", "buckets", "--poll-seconds", "1", "--stop-seconds", "20"
    )
    try:
        assert served.request("GET", "/healthz") == (200, "ok\n")
        daily = {"kind": "daily", "date": "2026-05-01", "label": "first"}
        weekly = {"kind": "weekly", "date": "2026-05-02", "label": "second"}
        assert served.post_event("orders-ready", daily) == (200, "{}")
        assert served.post_event("orders-ready", weekly) == (200, "{}")
        status, body = served.request(
            "POST", "/api/v1/events/default/orders-ready", b"{not json", {}
        )
        assert status == 400
        assert json.loads(body)["message"].startswith("the event body is not JSON")

        wait_for("the first poll of the bucket", lambda: served.events("watch"), timeout=30)
        (landing / ".upload.csv").write_text("id,name\n9,partial\n")
        (landing / "2026-05-01.csv").write_text("id,name\n1,ann\n")
        wait_for("the event run", lambda: finished(served, "serve-events"), timeout=120)
        wait_for("the arrival run", lambda: finished(served, "serve-arrivals"), timeout=120)
        wait_for("the scheduled run", lambda: finished(served, "serve-cron"), timeout=150)

        event_run = only_run(tmp_path, "serve-events")
        assert event_run.status is RunStatus.SUCCEEDED
        assert (event_run.parameters["run_date"], event_run.parameters["label"]) == (
            "2026-05-01",
            "first",
        )
        assert (tmp_path / "out" / "events" / "first-2026-05-01").is_dir()
        assert [line["discriminator"] for line in served.events("unmatched")] == ["orders-ready"]

        arrival_run = only_run(tmp_path, "serve-arrivals")
        assert arrival_run.parameters["input_key"] == "orders/2026-05-01.csv"
        assert arrival_run.status is RunStatus.SUCCEEDED

        cron_run = list_runs(str(tmp_path / ".ferry"), "serve-cron")[-1]  # the first, oldest
        assert cron_run.status is RunStatus.SUCCEEDED
        end = cron_run.parameters["interval_end"]
        assert end.endswith(":00+00:00") and cron_run.parameters["run_date"] == end[:10]

        def same_metrics() -> str | None:
            status, metrics = served.request("GET", "/metrics")
            cli = subprocess.run(
                [FERRY, "metrics", "--store", ".ferry"],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            return metrics if status == 200 and metrics == cli.stdout else None

        metrics = wait_for("/metrics to equal ferry metrics", same_metrics, timeout=120)
        assert 'ferry_runs_total{pipeline="serve-events",status="Succeeded"} 1' in metrics

        assert served.post_event("slow", {}) == (200, "{}")

        def lingering() -> bool:
            records = list_runs(str(tmp_path / ".ferry"), "serve-slow")
            return bool(records) and records[0].task("linger").status.value == "Running"

        wait_for("the slow step to run", lingering, timeout=120)
        assert served.terminate(timeout=60) == 0
    finally:
        if served.process.poll() is None:
            served.process.kill()

    slow = only_run(tmp_path, "serve-slow")
    assert (slow.status, slow.message) == (RunStatus.FAILED, "stopped by SIGTERM")
    log = served.log()
    after = log[[line["event"] for line in log].index("stopping") :]
    assert after[-1]["event"] == "stopped"
    stops = [line for line in after if line["event"] == "stop"]
    assert "the server is stopping" in {line["reason"] for line in stops}
    ends = {line["pipeline"]: line["status"] for line in after if line["event"] == "finish"}
    assert ends["serve-slow"] == "Failed"
    state = json.loads((tmp_path / ".ferry" / "serve" / "state.json").read_text())
    assert state["in_flight"] == [] and state["queued"] == []


def test_a_non_loopback_host_needs_a_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [FERRY, "serve", "--pipelines", str(PIPELINES), "--host", "0.0.0.0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "ferry: --host 0.0.0.0 is not a loopback address, so anyone who reaches it could "
        "start runs; set --token-env NAME with a token in $NAME, or use --host 127.0.0.1\n"
    )


def test_an_unset_token_variable_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [FERRY, "serve", "--pipelines", str(PIPELINES), "--token-env", "FERRY_NO_SUCH_TOKEN"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "ferry: --token-env FERRY_NO_SUCH_TOKEN: $FERRY_NO_SUCH_TOKEN is not set or empty; "
        "export the token in it, or drop --token-env on a loopback --host\n"
    )


def test_with_a_token_every_request_but_healthz_needs_it(tmp_path: Path) -> None:
    served = start_serve(tmp_path, "--token-env", "SERVE_TOKEN", env={"SERVE_TOKEN": "s3cret"})
    try:
        right = {"Authorization": "Bearer s3cret"}
        assert served.request("GET", "/healthz")[0] == 200
        assert served.request("GET", "/metrics")[0] == 401
        assert served.request("GET", "/metrics", headers={"Authorization": "Bearer nope"})[0] == 401
        assert served.post_event("orders-ready", {"kind": "weekly"})[0] == 401
        assert served.request("GET", "/metrics", headers=right)[0] == 200
        assert served.post_event("orders-ready", {"kind": "weekly"}, **right) == (200, "{}")

        second = subprocess.run(
            [FERRY, "serve", "--pipelines", str(PIPELINES), "--store", ".ferry", "--port", "0"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2
        lock = tmp_path / ".ferry" / "serve" / ".lock"
        assert second.stderr == (
            f"ferry: another ferry serve (pid {served.process.pid}) already serves this store "
            f"({lock}); stop it first, or give this one another --store\n"
        )
        assert served.terminate() == 0
    finally:
        if served.process.poll() is None:
            served.process.kill()
    assert served.events("unmatched")[0]["discriminator"] == "orders-ready"
