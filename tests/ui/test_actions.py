"""The buttons over HTTP: retry and backfill start the CLI commands and lead to their run."""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import PIPELINES, RealRuns, copy_run, serve, stop
from tests.ui.http_client import request


@pytest.fixture
def own_store(real_runs: RealRuns, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A store of its own holding a copy of the failed run, served by a UI of its own."""
    store = tmp_path / "store"
    copy_run(real_runs, "ui-strict", store)
    served = serve(store, PIPELINES)
    try:
        yield served.url, store
    finally:
        stop(served)


def _finished(url: str, pipeline: str, run_id: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = json.loads(request(f"{url}/api/pipelines/{pipeline}/runs/{run_id}").body)
        if state["finished"] and state["status"] != "Running":
            return state
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish within {seconds}s")


def test_retry_resumes_the_failed_run_and_redirects_to_it(
    own_store: tuple[str, Path], real_runs: RealRuns
) -> None:
    url, store = own_store
    run_id = real_runs.records["ui-strict"]["run_id"]
    reply = request(
        f"{url}/pipelines/ui-strict/runs/{run_id}/retry", form={}, headers={"Origin": url}
    )
    assert reply.status == 303, reply.body
    assert reply.headers["location"] == f"{url}/pipelines/ui-strict/runs/{run_id}"
    state = _finished(url, "ui-strict", run_id)
    assert state["status"] == "Failed"
    record = json.loads((store / "runs" / "ui-strict" / run_id / "run.json").read_text())
    assert record["retries"] == 1
    step = request(f"{url}/pipelines/ui-strict/runs/{run_id}/steps/orders-checked").body
    attempts = re.search(r'<table class="grid" id="attempts">.*?<tbody>(.*?)</tbody>', step, re.S)
    assert attempts is not None
    assert attempts.group(1).count("<tr>") == 2
    assert attempts.group(1).count(">Failed<") == 2


def test_backfill_runs_each_day_and_redirects_to_its_first_run(
    own_store: tuple[str, Path], real_runs: RealRuns
) -> None:
    url, store = own_store
    form = {
        "from": "2026-11-01",
        "to": "2026-11-01",
        "param.data_dir": str(real_runs.data),
        "param.output_dir": str(store.parent / "backfill-out"),
    }
    reply = request(f"{url}/pipelines/ui-daily/backfill", form=form, headers={"Referer": f"{url}/"})
    assert reply.status == 303, reply.body
    run_id = reply.headers["location"].rsplit("/", 1)[1]
    assert reply.headers["location"] == f"{url}/pipelines/ui-daily/runs/{run_id}"
    assert _finished(url, "ui-daily", run_id)["status"] == "Succeeded"
    record = json.loads((store / "runs" / "ui-daily" / run_id / "run.json").read_text())
    assert record["parameters"]["run_date"] == "2026-11-01"
    assert record["parameters"]["data_dir"] == str(real_runs.data)
