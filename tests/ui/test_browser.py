"""The UI in a real browser: headless Debian chromium driven by Playwright.

Clicks through pipelines -> runs -> a run -> a step over runs that ``ferry run``
made, checks what is shown against the run record, the quality report, the
quarantine and the log, presses "Run now" and watches the new run finish without
reloading by hand, and saves screenshots under test-artifacts/.
"""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.ui.conftest import ARTIFACTS, PIPELINES, RealRuns, copy_run, serve, stop
from tests.ui.http_client import request

COLOURS = {
    "Succeeded": "rgb(31, 157, 85)",
    "Failed": "rgb(214, 69, 69)",
    "Omitted": "rgb(201, 206, 216)",
}
"""Fill of a DAG node per status (ui.css)."""

POLL_PERIOD_SECONDS = 1.0
"""How often a page that shows something still going polls (PERIOD_MS in ui.js)."""


@pytest.fixture
def page(chromium) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def _cells(row) -> dict[str, str]:
    return {
        field: row.locator(f"[data-field={field}]").inner_text().strip()
        for field in ("status", "attempts", "rows_in", "rows_out", "rows_rejected", "quality_score")
    }


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def test_click_through_a_failed_run_down_to_its_checks_step(
    page, ui: str, real_runs: RealRuns
) -> None:
    record = real_runs.records["ui-strict"]
    run_id = record["run_id"]
    page.goto(f"{ui}/")
    assert page.locator("#pipelines tbody tr").count() == 3
    page.locator('#pipelines tr[data-pipeline="ui-strict"] a', has_text="ui-strict").click()

    page.wait_for_url(f"{ui}/pipelines/ui-strict")
    row = page.locator(f'#runs tr[data-run="{run_id}"]')
    assert row.locator("[data-field=status]").inner_text() == "Failed"
    row.locator("a", has_text=run_id).click()

    page.wait_for_url(f"{ui}/pipelines/ui-strict/runs/{run_id}")
    assert page.locator("#run-status").inner_text() == "Failed"
    assert page.locator("#run-message").inner_text() == record["message"]
    for task in record["tasks"]:
        node = page.locator(f'svg.dag .node[data-task="{task["name"]}"]')
        assert f"status-{task['status'].lower()}" in (node.get_attribute("class") or "")
        fill = node.locator("rect").evaluate("r => getComputedStyle(r).fill")
        assert fill == COLOURS[task["status"]], task["name"]
        cells = _cells(page.locator(f'#steps tr[data-task="{task["name"]}"]'))
        assert cells == {
            "status": task["status"],
            "attempts": str(task["attempts"]),
            "rows_in": _count(task["rows_in"]),
            "rows_out": _count(task["rows_out"]),
            "rows_rejected": _count(task["rows_rejected"]),
            "quality_score": _score(task["quality_score"]),
        }
    started = [t for t in record["tasks"] if t["attempts"]]
    bars = page.locator("svg.timeline rect.bar")
    assert bars.count() == sum(t["attempts"] for t in started)
    failed_bar = page.locator('svg.timeline rect.bar[data-step="orders-checked"]')
    assert "status-failed" in (failed_bar.get_attribute("class") or "")
    manifest = yaml.safe_load(
        (real_runs.store / "runs" / "ui-strict" / run_id / "workflow.yaml").read_text()
    )
    dag = next(t["dag"]["tasks"] for t in manifest["spec"]["templates"] if "dag" in t)
    for task in dag:
        for upstream in task.get("dependencies", []):
            edge = f'svg.dag path.edge[data-source="{upstream}"][data-target="{task["name"]}"]'
            assert page.locator(edge).count() == 1
    assert page.locator("svg.dag path.edge").count() == sum(
        len(t.get("dependencies", [])) for t in dag
    )
    _screenshot(page, "ui-run.png")

    page.locator('svg.dag .node[data-task="orders-checked"]').click()
    page.wait_for_url(f"{ui}/pipelines/ui-strict/runs/{run_id}/steps/orders-checked")
    checked = next(t for t in record["tasks"] if t["name"] == "orders-checked")
    assert page.locator("#step-status").inner_text() == "Failed"
    assert page.locator("#step-reason").inner_text() == (
        f"{checked['reason']} (not retried: data rejected)"
    )
    facts = page.locator("#step-facts")
    for field in ("rows_in", "rows_out", "rows_rejected"):
        assert facts.locator(f"[data-field={field}]").inner_text() == _count(checked[field])
    assert facts.locator("[data-field=quality_score]").inner_text() == "0.9940"

    artifact = real_runs.store / "artifacts" / run_id / "orders-checked"
    report = json.loads((artifact / "report.json").read_text())
    shown_rules = page.locator("#rules tbody tr")
    assert shown_rules.count() == len(report["rules"]) + len(report["row_count"])
    for rule in report["rules"]:
        line = page.locator(f'#rules tr[data-rule="{rule["name"]}"]')
        assert line.locator("[data-field=failed_rows]").inner_text() == f"{rule['failed_rows']:,}"
        samples = line.locator(".sample").all_inner_texts()
        assert samples == [
            f"row {s['row']}: {'None' if s['value'] is None else s['value']}"
            for s in rule["sample"]
        ]

    quarantine = pq.read_table(artifact / "quarantine").to_pylist()
    shown = page.locator("#quarantine tbody tr")
    assert shown.count() == len(quarantine) == 12
    first = shown.nth(0).locator("td").all_inner_texts()
    assert first[0] == str(quarantine[0]["order_id"])
    assert first[-1] == quarantine[0]["_ferry_reason"]
    log_file = real_runs.store / "runs" / "ui-strict" / run_id / "logs" / "orders-checked.log"
    log_text = page.locator("#log").inner_text()
    assert log_text.strip() == log_file.read_text().strip()
    _screenshot(page, "ui-step.png")


def test_a_warn_gate_shows_its_warning_on_the_run_and_the_step(
    page, ui: str, real_runs: RealRuns
) -> None:
    record = real_runs.records["ui-segments"]
    warned = next(t for t in record["tasks"] if t["warning"])
    page.goto(f"{ui}/pipelines/ui-segments/runs/{record['run_id']}")
    assert page.locator("#run-status").inner_text() == "Succeeded"
    node = page.locator(f'svg.dag .node[data-task="{warned["name"]}"]')
    assert "warned" in (node.get_attribute("class") or "")
    stroke = node.locator("rect").evaluate("r => getComputedStyle(r).stroke")
    assert stroke == "rgb(217, 154, 0)"
    assert f"{warned['name']}: {warned['warning']}" in page.locator("main").inner_text()
    _screenshot(page, "ui-run-warned.png")
    node.click()
    assert page.locator("#step-warning").inner_text() == warned["warning"]
    assert page.locator("#report-summary .badge").inner_text() == "failed"


@pytest.fixture
def own_ui(real_runs: RealRuns, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A store of its own holding a copy of the ui-daily run, served by a UI of its own.

    Run now writes into this store only; the runs it started and that are still going
    when the test ends are stopped with the server (``stop``).
    """
    store = tmp_path / "store"
    copy_run(real_runs, "ui-daily", store)
    served = serve(store, PIPELINES)
    try:
        yield served.url, store
    finally:
        stop(served)


def test_run_now_starts_a_run_that_appears_and_finishes_live(
    page, own_ui: tuple[str, Path], real_runs: RealRuns, tmp_path: Path
) -> None:
    ui, store = own_ui
    before = real_runs.records["ui-daily"]["run_id"]
    page.goto(f"{ui}/pipelines/ui-daily")
    page.fill('input[name="param.data_dir"]', str(real_runs.data))
    page.fill('input[name="param.output_dir"]', str(tmp_path / "out-run-now"))
    page.click("#run-now")
    # the button waits up to START_TIMEOUT_SECONDS for the run's record (a loaded CI machine)
    page.wait_for_url(
        re.compile(rf"{re.escape(ui)}/pipelines/ui-daily/runs/ui-daily-[a-z0-9]+$"), timeout=90_000
    )
    run_id = page.url.rsplit("/", 1)[1]
    assert run_id != before
    # one snapshot of the page as first shown: a run still going, and the page polling it
    # (the run's steps are fork-server fast, so a later look may find it finished already)
    first_seen = page.evaluate(
        "() => [document.querySelector('#run-status').innerText, document.body.dataset.poll]"
    )
    assert first_seen[0] == "Running" and first_seen[1] is not None
    running = page.locator("svg.dag .node.status-running, svg.dag .node.status-succeeded")
    running.first.wait_for(timeout=120_000)
    page.wait_for_function("() => !document.body.dataset.poll", timeout=120_000)
    assert page.locator("#run-status").inner_text() == "Succeeded"
    assert page.url.endswith(f"/runs/{run_id}")  # updated in place, never reloaded elsewhere
    record = json.loads((store / "runs" / "ui-daily" / run_id / "run.json").read_text())
    assert record["status"] == "Succeeded"
    assert record["parameters"]["data_dir"] == str(real_runs.data)
    for task in record["tasks"]:
        cells = _cells(page.locator(f'#steps tr[data-task="{task["name"]}"]'))
        assert cells["status"] == "Succeeded"
        assert cells["rows_out"] == _count(task["rows_out"])
    page.locator("a", has_text="ui-daily").first.click()
    page.wait_for_url(f"{ui}/pipelines/ui-daily")
    newest = page.locator("#runs tbody tr").first
    assert newest.get_attribute("data-run") == run_id
    assert newest.locator("[data-field=status]").inner_text() == "Succeeded"


def test_run_now_answered_after_the_runs_page_saw_the_new_record_still_lands_on_the_run(
    page, own_ui: tuple[str, Path], real_runs: RealRuns, tmp_path: Path
) -> None:
    """The runs page reloads when a record changes, but never over a form being sent.

    The new run's record is written before the button's answer; on a loaded machine
    the page's poll could see the record first and reload, which cancelled the
    answer's navigation and left the browser on the runs page. Holding the answer
    here for a few poll periods makes that order certain.
    """
    ui, store = own_ui
    held: list[str] = []

    def hold_the_answer(route) -> None:
        answer = route.fetch(max_redirects=0)  # the record exists once this returns
        held.append(answer.headers.get("location", ""))
        time.sleep(3 * POLL_PERIOD_SECONDS)
        route.fulfill(response=answer)

    page.route(f"{ui}/pipelines/ui-daily/run", hold_the_answer)
    page.goto(f"{ui}/pipelines/ui-daily")
    version = page.evaluate("() => document.body.dataset.version")
    page.fill('input[name="param.data_dir"]', str(real_runs.data))
    page.fill('input[name="param.output_dir"]', str(tmp_path / "out-run-now"))
    page.click("#run-now")
    page.wait_for_url(re.compile(rf"{re.escape(ui)}/pipelines/ui-daily/runs/ui-daily-[a-z0-9]+$"))
    run_id = page.url.rsplit("/", 1)[1]
    assert held == [f"{ui}/pipelines/ui-daily/runs/{run_id}"]
    assert run_id != real_runs.records["ui-daily"]["run_id"]
    assert (store / "runs" / "ui-daily" / run_id / "run.json").is_file()
    versions = json.loads(request(f"{ui}/api/pipelines/ui-daily/version").body)
    assert versions["version"] != version  # the page had a changed version to reload for


@pytest.fixture
def hostile_ui(real_runs: RealRuns, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A copy of the failed run whose step name, log, message and report carry markup."""
    store = tmp_path / "store"
    record, folder = copy_run(real_runs, "ui-strict", store)
    hostile = "<img src=x onerror=window.__ferry_xss=1>"
    tasks = [dict(t) for t in record["tasks"]]
    for task in tasks:
        if task["name"] == "customers":
            task["name"] = hostile
            (folder / "logs" / "customers.log").rename(folder / "logs" / f"{hostile}.log")
    record["tasks"] = tasks
    record["message"] = "<script>window.__ferry_xss=2</script>"
    (folder / "run.json").write_text(json.dumps(record))
    with (folder / "logs" / "orders-checked.log").open("a") as log:
        log.write("<script>window.__ferry_xss=3</script><b onmouseover=alert(1)>bold</b>\n")
    report_file = store / "artifacts" / record["run_id"] / "orders-checked" / "report.json"
    report = json.loads(report_file.read_text())
    report["rules"][0]["sample"] = [{"row": 1, "value": "<script>window.__ferry_xss=4</script>"}]
    report_file.write_text(json.dumps(report))
    served = serve(store, PIPELINES)
    try:
        yield served.url, record["run_id"]
    finally:
        stop(served)


def test_markup_in_a_record_a_log_or_a_report_is_shown_as_text_never_run(
    page, hostile_ui: tuple[str, str]
) -> None:
    url, run_id = hostile_ui
    page.goto(f"{url}/pipelines/ui-strict/runs/{run_id}")
    assert page.locator("#run-message").inner_text() == "<script>window.__ferry_xss=2</script>"
    hostile = "<img src=x onerror=window.__ferry_xss=1>"
    assert page.locator(f"#steps tr >> text={hostile}").count() == 1
    assert page.locator("main img").count() == 0
    assert page.evaluate("() => window.__ferry_xss") is None
    page.locator(f'#steps tr a:text-is("{hostile}")').click()
    assert page.locator("h1").inner_text().startswith(hostile)
    assert page.evaluate("() => window.__ferry_xss") is None
    page.goto(f"{url}/pipelines/ui-strict/runs/{run_id}/steps/orders-checked")
    assert (
        page.locator("#log")
        .inner_text()
        .rstrip()
        .endswith("<script>window.__ferry_xss=3</script><b onmouseover=alert(1)>bold</b>")
    )
    assert page.locator("#log b").count() == 0
    assert "row 1: <script>window.__ferry_xss=4</script>" in page.locator("#rules").inner_text()
    assert page.evaluate("() => window.__ferry_xss") is None
