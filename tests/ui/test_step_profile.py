"""A checks step's column profile and its drift are shown when the report has them."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import PIPELINES, RealRuns, copy_run, serve, stop
from tests.ui.http_client import request

PROFILE = {
    "rows": 1998,
    "columns": [
        {
            "name": "amount",
            "type": "float64",
            "nulls": 0,
            "null_share": 0.0,
            "distinct_estimate": 1990,
            "min": -5.0,
            "max": 99999.5,
            "mean": 25012.3456789,
        },
        {
            "name": "status",
            "type": "string",
            "nulls": 2,
            "null_share": 0.001001,
            "distinct_estimate": 6,
            "top_values": [{"value": "placed", "count": 410}, {"value": "lost", "count": 2}],
        },
    ],
}
DRIFT = {
    "factor": 2.0,
    "previous_run": "ui-strict-older",
    "moves": ["column 'status' null share 0.0002 -> 0.0010 (5.01x)"],
}


@pytest.fixture
def profiled(real_runs: RealRuns, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    store = tmp_path / "store"
    record, _ = copy_run(real_runs, "ui-strict", store)
    served = serve(store, PIPELINES)
    try:
        yield served.url, record["run_id"], store / "artifacts" / record["run_id"]
    finally:
        stop(served)


def _step_page(url: str, run_id: str) -> str:
    reply = request(f"{url}/pipelines/ui-strict/runs/{run_id}/steps/orders-checked")
    assert reply.status == 200
    return reply.body


def test_the_profile_is_a_table_and_drift_moves_are_warnings(profiled) -> None:
    url, run_id, artifacts = profiled
    report_file = artifacts / "orders-checked" / "report.json"
    report = json.loads(report_file.read_text())
    report_file.write_text(json.dumps({**report, "profile": PROFILE, "profile_drift": DRIFT}))
    body = _step_page(url, run_id)
    header = re.search(r'<table class="grid" id="profile">\s*<thead><tr>(.*?)</tr>', body, re.S)
    assert header is not None
    assert re.findall(r"<th>([^<]*)</th>", header.group(1)) == [
        "Column", "type", "nulls", "null share", "distinct estimate", "min", "max", "mean",
        "top values",
    ]  # fmt: skip
    amount = re.search(r'<tr data-column="amount">(.*?)</tr>', body, re.S)
    status = re.search(r'<tr data-column="status">(.*?)</tr>', body, re.S)
    assert amount is not None and status is not None
    assert re.findall(r"<td>([^<]*)</td>", amount.group(1)) == [
        "float64", "0", "0", "1990", "-5", "99999.5", "25012.3", "",
    ]  # fmt: skip
    assert re.findall(r"<td>([^<]*)</td>", status.group(1))[-1] == "placed (410), lost (2)"
    assert "Of 1,998 rows read." in body
    assert "Compared with run ui-strict-older (warns at a factor of 2.0):" in body
    assert (
        '<p class="warning">column &#39;status&#39; null share 0.0002 -&gt; 0.0010 (5.01x)</p>'
        in body
    )


def test_a_report_without_a_profile_still_shows_its_rules(profiled) -> None:
    url, run_id, artifacts = profiled
    report_file = artifacts / "orders-checked" / "report.json"
    report = json.loads(report_file.read_text())
    # as a report written before checks steps profiled their columns
    report.pop("profile", None)
    report.pop("profile_drift", None)
    report_file.write_text(json.dumps(report))
    body = _step_page(url, run_id)
    assert 'id="profile"' not in body
    assert body.count('<tr data-rule="') == len(report["rules"]) + len(report["row_count"])


def test_a_first_profile_says_there_is_nothing_to_compare_with(profiled) -> None:
    url, run_id, artifacts = profiled
    report_file = artifacts / "orders-checked" / "report.json"
    report = json.loads(report_file.read_text())
    first = {"factor": 2.0, "previous_run": None, "moves": []}
    report_file.write_text(json.dumps({**report, "profile": PROFILE, "profile_drift": first}))
    assert "No earlier profile to compare with yet." in _step_page(url, run_id)
