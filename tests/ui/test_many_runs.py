"""The runs page with thousands of run records: fast, filtered, paginated, damage reported."""

import json
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.ui.conftest import PIPELINES, RealRuns, serve, stop
from tests.ui.http_client import request

RUNS = 3_000
STATUSES = ("Succeeded", "Failed", "Succeeded", "Error")
FIRST = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)


def _fill(store: Path, template: dict) -> None:
    """RUNS records of pipeline ui-strict, one every 2 hours, built from a real record."""
    for n in range(RUNS):
        started = FIRST + timedelta(hours=2 * n)
        record = {
            **template,
            "run_id": f"ui-strict-{n:05d}",
            "status": STATUSES[n % len(STATUSES)],
            "started": started.isoformat(),
            "finished": (started + timedelta(seconds=90)).isoformat(),
            "duration_seconds": 90.0,
            "runner_pid": None,
            "runner_host": None,
            "heartbeat": None,
        }
        folder = store / "runs" / "ui-strict" / record["run_id"]
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps(record))


@pytest.fixture(scope="module")
def many(real_runs: RealRuns, tmp_path_factory: pytest.TempPathFactory):
    store = tmp_path_factory.mktemp("many") / "store"
    _fill(store, real_runs.records["ui-strict"])
    served = serve(store, PIPELINES)
    yield served.url, store
    stop(served)


def _timed(url: str) -> tuple[float, str]:
    began = time.perf_counter()
    reply = request(url)
    assert reply.status == 200, reply.body
    return time.perf_counter() - began, reply.body


def test_the_runs_page_answers_well_under_a_second_with_3000_runs(many) -> None:
    url, store = many
    first, body = _timed(f"{url}/pipelines/ui-strict")
    assert f">{RUNS} runs, page 1 of 60<" in body
    assert first < 5.0, f"the first request, reading {RUNS} records, took {first:.2f}s"
    warm, _ = _timed(f"{url}/pipelines/ui-strict?page=7")
    filtered, _ = _timed(f"{url}/pipelines/ui-strict?status=Error&from=2026-10-01")
    assert warm < 0.5, f"request took {warm:.2f}s"
    assert filtered < 0.5, f"filtered request took {filtered:.2f}s"
    assert (store / "runs" / "ui-strict" / ".ui-index.json").is_file()
    restarted = serve(store, PIPELINES)
    try:
        cold, body = _timed(f"{restarted.url}/pipelines/ui-strict")
    finally:
        stop(restarted)
    assert f">{RUNS} runs, page 1 of 60<" in body
    assert cold < 1.0, f"the first request of a restarted server took {cold:.2f}s"


def _first_page_of_a_restarted_server(store: Path) -> str:
    restarted = serve(store, PIPELINES)
    try:
        return request(f"{restarted.url}/pipelines/ui-strict").body
    finally:
        stop(restarted)


def test_a_saved_index_is_used_only_when_made_the_same_way(many) -> None:
    url, store = many
    saved = store / "runs" / "ui-strict" / ".ui-index.json"
    request(f"{url}/pipelines/ui-strict")
    original = saved.read_text()
    data = json.loads(original)
    for entry in data["runs"].values():
        entry["summary"]["quality_score"] = 0.1234
    try:
        saved.write_text(json.dumps(data))
        assert 'data-field="quality">0.1234<' in _first_page_of_a_restarted_server(store)
        saved.write_text(json.dumps({**data, "final_steps": ["another-step"]}))
        body = _first_page_of_a_restarted_server(store)
        assert "0.1234" not in body
        assert 'data-field="quality">0.9940<' in body
        saved.write_text("{damaged")
        body = _first_page_of_a_restarted_server(store)
        assert f">{RUNS} runs, page 1 of 60<" in body
        assert 'data-field="quality">0.9940<' in body
    finally:
        saved.write_text(original)


def test_runs_are_newest_first_and_paginated(many) -> None:
    url, _ = many
    first = re.findall(r'<tr data-run="([^"]+)">', request(f"{url}/pipelines/ui-strict").body)
    second = re.findall(
        r'<tr data-run="([^"]+)">', request(f"{url}/pipelines/ui-strict?page=2").body
    )
    assert first == [f"ui-strict-{n:05d}" for n in range(RUNS - 1, RUNS - 51, -1)]
    assert second == [f"ui-strict-{n:05d}" for n in range(RUNS - 51, RUNS - 101, -1)]


def test_filter_by_status_and_start_day(many) -> None:
    url, _ = many
    body = request(f"{url}/pipelines/ui-strict?status=Error&from=2026-09-02&to=2026-09-03").body
    shown = re.findall(r'<tr data-run="([^"]+)">', body)
    expected = [
        f"ui-strict-{n:05d}"
        for n in range(RUNS)
        if STATUSES[n % len(STATUSES)] == "Error"
        and datetime(2026, 9, 2).date()
        <= (FIRST + timedelta(hours=2 * n)).date()
        <= datetime(2026, 9, 3).date()
    ]
    assert shown == list(reversed(expected))
    assert f">{len(expected)} runs<" in body


def test_a_new_or_rewritten_record_shows_on_the_next_request(many, real_runs: RealRuns) -> None:
    url, store = many
    template = real_runs.records["ui-strict"]
    folder = store / "runs" / "ui-strict" / "ui-strict-newest"
    folder.mkdir()
    record = {**template, "run_id": "ui-strict-newest", "started": "2027-06-01T00:00:00+00:00"}
    (folder / "run.json").write_text(json.dumps(record))
    body = request(f"{url}/pipelines/ui-strict").body
    assert re.findall(r'<tr data-run="([^"]+)">', body)[0] == "ui-strict-newest"
    (folder / "run.json").write_text(json.dumps({**record, "status": "Error"}) + " ")
    body = request(f"{url}/pipelines/ui-strict?status=Error").body
    assert re.findall(r'<tr data-run="([^"]+)">', body)[0] == "ui-strict-newest"
    (folder / "run.json").unlink()
    folder.rmdir()


def test_a_damaged_record_is_named_and_the_others_still_listed(many) -> None:
    url, store = many
    folder = store / "runs" / "ui-strict" / "ui-strict-damaged"
    folder.mkdir()
    (folder / "run.json").write_text("{not json")
    try:
        body = request(f"{url}/pipelines/ui-strict").body
        assert f"{folder / 'run.json'}: damaged run record, skipped (JSONDecodeError: " in body
        assert f">{RUNS} runs, page 1 of 60<" in body
    finally:
        (folder / "run.json").unlink()
        folder.rmdir()


def test_a_running_record_without_its_runner_is_abandoned(many, real_runs: RealRuns) -> None:
    url, store = many
    folder = store / "runs" / "ui-strict" / "ui-strict-orphan"
    folder.mkdir()
    started = datetime.now(UTC) + timedelta(days=400)
    record = {
        **real_runs.records["ui-strict"],
        "run_id": "ui-strict-orphan",
        "status": "Running",
        "finished": None,
        "started": started.isoformat(),
        "heartbeat": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "runner_pid": 999_999_999,
    }
    (folder / "run.json").write_text(json.dumps(record))
    try:
        body = request(f"{url}/pipelines/ui-strict?status=Abandoned").body
        assert re.findall(r'<tr data-run="([^"]+)">', body) == ["ui-strict-orphan"]
        page = request(f"{url}/pipelines/ui-strict/runs/ui-strict-orphan").body
        host = socket.gethostname()
        assert f"the runner (pid 999999999 on {host}) is gone; the run never finished" in page
        assert 'id="retry-form"' in page
    finally:
        (folder / "run.json").unlink()
        folder.rmdir()
