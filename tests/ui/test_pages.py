"""The UI's pages and actions over HTTP, against a store filled by real runs."""

import html
import json
import re

from tests.ui.conftest import RealRuns
from tests.ui.http_client import request


def test_pipelines_page_lists_schedule_next_run_triggers_and_last_status(
    ui: str, real_runs: RealRuns
) -> None:
    reply = request(f"{ui}/")
    assert reply.status == 200
    rows = dict(re.findall(r'<tr data-pipeline="([^"]+)">(.*?)</tr>', reply.body, re.S))
    assert set(rows) == {"ui-daily", "ui-strict", "ui-segments"}
    assert "<code>0 3 * * * (Europe/Berlin)</code>" in rows["ui-daily"]
    next_run = re.search(r'data-field="next-run">([^<]*)<', rows["ui-daily"])
    assert next_run is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 0[12]:00:00", next_run.group(1))
    assert "on demand" in rows["ui-strict"]
    assert "event orders-ready when payload.date != nil" in html.unescape(rows["ui-segments"])
    assert ">Failed<" in rows["ui-strict"]
    assert ">Succeeded<" in rows["ui-daily"]


def test_every_page_carries_a_script_policy_of_its_own_origin_only(ui: str) -> None:
    reply = request(f"{ui}/")
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_runs_page_shows_each_run_with_rows_and_quality(ui: str, real_runs: RealRuns) -> None:
    record = real_runs.records["ui-strict"]
    reply = request(f"{ui}/pipelines/ui-strict")
    assert reply.status == 200
    row = re.search(rf'<tr data-run="{record["run_id"]}">(.*?)</tr>', reply.body, re.S)
    assert row is not None
    checked = next(t for t in record["tasks"] if t["name"] == "orders-checked")
    worst = min(t["quality_score"] for t in record["tasks"] if t["quality_score"] is not None)
    assert ">Failed<" in row.group(1)
    assert f'data-field="quality">{worst:.4f}<' in row.group(1)
    rejected = sum(t["rows_rejected"] or 0 for t in record["tasks"])
    assert f'data-field="rejected">{rejected:,}<' in row.group(1)
    assert checked["rows_rejected"] == 12


def test_runs_page_refuses_a_bad_filter_in_one_line(ui: str) -> None:
    cases = {
        "status=Broken": (
            "status: &#39;Broken&#39; is not a run status; use one of Running, Succeeded, "
            "Failed, Error, Abandoned"
        ),
        "from=2026-13-01": "from: &#39;2026-13-01&#39; is not a date; use YYYY-MM-DD",
        "from=2026-11-05&to=2026-11-01": "from 2026-11-05 is after to 2026-11-01; swap them",
        "page=two": "page: &#39;two&#39; is not a number",
    }
    for query, message in cases.items():
        reply = request(f"{ui}/pipelines/ui-daily?{query}")
        assert reply.status == 400, query
        assert f'<p class="problem" id="problem">{message}</p>' in reply.body


def test_unknown_pipeline_run_and_step_are_404_with_what_is_missing(
    ui: str, real_runs: RealRuns
) -> None:
    run_id = real_runs.records["ui-strict"]["run_id"]
    cases = {
        "/pipelines/nope": "no pipeline &#39;nope&#39; is defined and the store has no runs of it",
        "/pipelines/ui-strict/runs/nope-1": (
            "no run &#39;nope-1&#39; of pipeline &#39;ui-strict&#39; in the store"
        ),
        f"/pipelines/ui-strict/runs/{run_id}/steps/nope": (
            f"run &#39;{run_id}&#39; has no step &#39;nope&#39;"
        ),
        "/pipelines/ui-strict/runs/.lock": "no run &#39;.lock&#39; of pipeline &#39;ui-strict&#39;",
    }
    for path, message in cases.items():
        reply = request(f"{ui}{path}")
        assert reply.status == 404, path
        assert message in reply.body, path


def test_run_state_endpoint_reports_the_record(ui: str, real_runs: RealRuns) -> None:
    record = real_runs.records["ui-strict"]
    reply = request(f"{ui}/api/pipelines/ui-strict/runs/{record['run_id']}")
    assert reply.status == 200
    state = json.loads(reply.body)
    assert state["status"] == "Failed"
    assert state["finished"] is True
    assert {t["name"]: t["status"] for t in state["tasks"]} == {
        t["name"]: t["status"] for t in record["tasks"]
    }


def test_a_post_from_another_origin_or_none_is_refused(ui: str, real_runs: RealRuns) -> None:
    refusal = (
        "refused: the form was not posted from this UI (its Origin or Referer is missing or "
        "another site&#39;s); use the buttons of the UI"
    )
    run_id = real_runs.records["ui-strict"]["run_id"]
    for path in ("/pipelines/ui-daily/run", f"/pipelines/ui-strict/runs/{run_id}/retry"):
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Referer": "http://127.0.0.2:1/pipelines/ui-daily"},
            {},
        ):
            reply = request(f"{ui}{path}", form={}, headers=headers)
            assert reply.status == 403, (path, headers)
            assert refusal in reply.body


def test_a_post_that_is_not_a_form_is_refused(ui: str) -> None:
    reply = request(
        f"{ui}/pipelines/ui-daily/run",
        form={},
        headers={"Origin": ui, "Content-Type": "application/json"},
    )
    assert reply.status == 400
    assert "expected a form (application/x-www-form-urlencoded), got application/json" in reply.body


def test_a_backfill_needs_an_ordered_pair_of_dates(ui: str) -> None:
    cases = {
        (("from", "2026-11-02"), ("to", "")): "backfill: give both from and to (YYYY-MM-DD)",
        (("from", "2026-11-02"), ("to", "2026-11-01")): (
            "backfill: from 2026-11-02 is after to 2026-11-01"
        ),
        (("from", "yesterday"), ("to", "2026-11-01")): (
            "from: &#39;yesterday&#39; is not a date; use YYYY-MM-DD"
        ),
    }
    for fields, message in cases.items():
        reply = request(
            f"{ui}/pipelines/ui-daily/backfill", form=dict(fields), headers={"Origin": ui}
        )
        assert reply.status == 400
        assert message in reply.body


def test_a_succeeded_run_is_not_retried(ui: str, real_runs: RealRuns) -> None:
    run_id = real_runs.records["ui-daily"]["run_id"]
    reply = request(f"{ui}/pipelines/ui-daily/runs/{run_id}/retry", form={}, headers={"Origin": ui})
    assert reply.status == 409
    assert f"run &#39;{run_id}&#39; is Succeeded; only a failed run retries" in reply.body


def test_step_page_shows_the_quality_report_and_quarantine_of_the_checks_step(
    ui: str, real_runs: RealRuns
) -> None:
    record = real_runs.records["ui-strict"]
    report_path = (
        real_runs.store / "artifacts" / record["run_id"] / "orders-checked" / "report.json"
    )
    report = json.loads(report_path.read_text())
    reply = request(f"{ui}/pipelines/ui-strict/runs/{record['run_id']}/steps/orders-checked")
    assert reply.status == 200
    for rule in report["rules"]:
        row = re.search(
            rf'<tr data-rule="{re.escape(html.escape(rule["name"]))}">(.*?)</tr>', reply.body, re.S
        )
        assert row is not None, rule["name"]
        assert f'data-field="failed_rows">{rule["failed_rows"]:,}<' in row.group(1)
    assert "12 rows quarantined; the first 12:" in reply.body
    reasons = re.findall(r'<td class="reason">([^<]*)</td>', reply.body)
    assert sorted(set(reasons)) == sorted(
        html.escape(r["name"]) for r in report["rules"] if r["failed_rows"]
    )
    assert "quality score 0.9940 is below threshold 0.9990" in reply.body
