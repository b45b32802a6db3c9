"""Benchmark: the whole ``orders-daily`` demo pipeline against one hand-written DuckDB script.

``python -m bench pipeline`` generates the demo data once per row count (kept under
``bench/results/data/``, which git ignores), then runs pairs of ``ferry run
orders-daily`` (a fresh store, ``--no-cache``) and ``bench.baseline_orders_daily``,
which of the two goes first alternating. Every run starts from an empty output
folder that is removed afterwards. The page cache of the benchmark machine lets
files go within minutes and its disk reads about 20 MB/s, so a run's time would
depend on whether the cache had been dropped just before it: every run, of either
side, starts with the input read into the page cache (outside the timing), and one
warm-up pair, not counted, runs first for the libraries (Hera, pyarrow, DuckDB;
about 7 s more for the first run otherwise). OS caches are otherwise left alone,
which treats both sides alike. Both outputs are compared row by row before any figure counts. Each
step's share of the wall time comes from the run record, its peak RSS and CPU
seconds from its own ``step_finished`` log line.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Measured, dag_tasks, measure

DATA_ROOT = Path(__file__).resolve().parent / "results" / "data"
PAIRS = 5
"""Pairs of (Ferry, baseline) runs; the ratio is the median of the pairs' ratios."""

PIPELINE = "orders-daily"
STEPS = ("orders", "customers", "orders-checked", "daily-revenue", "revenue-dataset")
REVENUE_TOLERANCE = 1e-9
"""Relative tolerance on summed revenue: the two sides add the same floats in another order."""


def demo_data(rows: int) -> Path:
    """The demo input of ``rows`` orders, generated on first use and kept for later runs."""
    root = DATA_ROOT / f"demo-{rows}"
    done = root / ".complete"
    if not done.exists():
        # in a child process: a forked child starts with its parent's resident memory,
        # which Linux counts in the child's peak, so the bench itself must stay small
        ferry = str(Path(sys.executable).with_name("ferry"))
        subprocess.run([ferry, "demo-data", "--rows", str(rows), "--out", str(root)], check=True)
        done.touch()
    return root


def _ferry_command(data: Path, store: Path, out: Path) -> list[str]:
    return [
        str(Path(sys.executable).with_name("ferry")),
        *("run", PIPELINE, "--pipelines", "workflows.pipelines", "--no-cache", "--no-triggers"),
        *("--store", str(store), "--output", "json"),
        *("-p", f"data_dir={data}", "-p", f"output_dir={out}"),
    ]


def _baseline_command(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "bench.baseline_orders_daily", str(data), str(out)]


def _output_rows(dataset: Path) -> list[tuple[Any, ...]]:
    import duckdb

    return duckdb.sql(
        "SELECT CAST(order_date AS DATE), country, status, currency, orders, revenue "
        f"FROM read_parquet('{dataset}/*/*.parquet', hive_partitioning = true) ORDER BY ALL"
    ).fetchall()


def same_output(ferry: Path, baseline: Path) -> str:
    """ "" when both daily-revenue datasets hold the same rows, else what differs."""
    a, b = _output_rows(ferry), _output_rows(baseline)
    if len(a) != len(b):
        return f"ferry wrote {len(a)} rows, the baseline {len(b)}"
    for left, right in zip(a, b, strict=True):
        keys_match = left[:5] == right[:5]
        revenue = float(left[5]), float(right[5])
        if not keys_match or abs(revenue[0] - revenue[1]) > REVENUE_TOLERANCE * abs(revenue[1]):
            return f"first differing row: ferry {left}, baseline {right}"
    return ""


def _step_figures(store: Path) -> dict[str, dict[str, Any]]:
    """Per step: its duration from the run record, peak RSS and CPU from its log."""
    (record_path,) = store.glob(f"runs/{PIPELINE}/*/run.json")
    record = json.loads(record_path.read_text())
    figures: dict[str, dict[str, Any]] = {}
    for task in dag_tasks(record):
        finished: dict[str, Any] = {}
        for line in Path(task["log"]).read_text().splitlines():
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("event") == "step_finished":
                finished = event
        figures[task["name"]] = {
            "seconds": task["duration_seconds"],
            "peak_rss_mb": finished.get("peak_rss_mb"),
            "cpu_seconds": finished.get("cpu_seconds"),
        }
    return figures


def _side(m: Measured) -> dict[str, Any]:
    return {**m.to_dict(), "cpu_per_wall": round(m.cpu_seconds / m.seconds, 2)}


def run_ferry(data: Path, work: Path) -> tuple[dict[str, Any], Path]:
    """One ``ferry run`` with a fresh store; its figures and where its output went."""
    store, out = work / "store", work / "ferry-out"
    measured = measure(_ferry_command(data, store, out))
    if measured.exit_code:
        raise RuntimeError(f"ferry run failed ({measured.exit_code}): {measured.error}")
    return {**_side(measured), "steps": _step_figures(store)}, out / "daily_revenue"


def run_baseline(data: Path, work: Path) -> tuple[dict[str, Any], Path]:
    """One run of the DuckDB script; its figures and where its output went."""
    out = work / "baseline-out"
    measured = measure(_baseline_command(data, out))
    if measured.exit_code:
        raise RuntimeError(f"baseline failed ({measured.exit_code}): {measured.error}")
    return _side(measured), out / "daily_revenue"


def _cache_input(data: Path) -> None:
    """Read every input file, so that the run about to start finds it in the page cache."""
    for path in sorted(data.rglob("*")):
        if path.is_file():
            with path.open("rb") as file:
                while file.read(1 << 23):
                    pass


def _pair(data: Path, ferry_first: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ferry-pipeline-bench-") as tmp:
        work = Path(tmp)
        runs = (run_ferry, run_baseline) if ferry_first else (run_baseline, run_ferry)
        results = []
        for run in runs:
            _cache_input(data)
            results.append(run(data, work))
        (ferry, ferry_out), (baseline, baseline_out) = results if ferry_first else results[::-1]
        difference = same_output(ferry_out, baseline_out)
        if difference:
            raise RuntimeError(f"ferry and the baseline disagree: {difference}")
        shutil.rmtree(work / "store")
    return {"ferry": ferry, "baseline": baseline, "ratio": baseline["seconds"] / ferry["seconds"]}


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main(rows: int, large_rows: int | None, pairs: int = PAIRS) -> dict[str, Any]:
    """Run the pairs at ``rows`` and one Ferry run at ``large_rows`` (for memory)."""
    data = demo_data(rows)
    _pair(data, ferry_first=True)  # warm-up, not counted: see the module docstring
    load_before = os.getloadavg()[0]
    measured = []
    for n in range(pairs):
        measured.append(_pair(data, ferry_first=n % 2 == 0))
        print(f"pair {n + 1}/{pairs}: ratio {measured[-1]['ratio']:.3f}", flush=True)
    ferry = _median_run([p["ferry"] for p in measured])
    result: dict[str, Any] = {
        "rows": rows,
        "pairs": measured,
        "ratio": round(statistics.median(p["ratio"] for p in measured), 3),
        "ferry": ferry,
        "baseline": _median_run([p["baseline"] for p in measured]),
        "large": None,
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    if large_rows:
        with tempfile.TemporaryDirectory(prefix="ferry-pipeline-bench-") as tmp:
            large, _ = run_ferry(demo_data(large_rows), Path(tmp))
        result["large"] = {"rows": large_rows, **large}
    return result


SECTION = "## The whole demo pipeline vs one DuckDB script"
TARGET = 1.0
FLOOR = 0.8
RSS_LIMIT_MB = 1024
RSS_GROWTH_LIMIT = 1.2


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _load(result: dict[str, Any]) -> str:
    load = result.get("load_average")
    return " / ".join(f"{v:.1f}" for v in load) if load else "not recorded"


def _verdict(ratio: float) -> str:
    if ratio >= TARGET:
        return "target met"
    return "above the floor, below the target" if ratio >= FLOOR else "MISSED (below the floor)"


def _step_rows(result: dict[str, Any]) -> list[list[str]]:
    ferry, large = result["ferry"], result["large"]
    rows = []
    for step in STEPS:
        small = ferry["steps"].get(step, {})
        rss = small.get("peak_rss_mb")
        big = (large or {}).get("steps", {}).get(step, {}).get("peak_rss_mb")
        growth = f"{big / rss:.2f}x" if rss and big else "-"
        ok = rss is not None and rss <= RSS_LIMIT_MB
        if big is not None and rss:
            ok = ok and big <= RSS_LIMIT_MB and big / rss <= RSS_GROWTH_LIMIT
        rows.append(
            [
                step,
                f"{small.get('seconds', 0):.2f}",
                f"{100 * small.get('seconds', 0) / ferry['seconds']:.0f}%",
                f"{small.get('cpu_seconds') or 0:.2f}",
                f"{rss:.0f}" if rss else "-",
                f"{big:.0f}" if big else "-",
                growth,
                "ok" if ok else "MISSED",
            ]
        )
    return rows


def markdown(result: dict[str, Any]) -> str:
    """The benchmark page's section on the whole pipeline."""
    rows, large = result["rows"], result["large"]
    ferry, baseline = result["ferry"], result["baseline"]
    large_rows = f"{large['rows']:,}" if large else "-"
    lines = [
        SECTION,
        "",
        f"`ferry run orders-daily` (a fresh store, `--no-cache`) on {rows:,} demo rows",
        "(`ferry demo-data`: four CSV files, 780 MB at 10M rows, with planted bad rows)",
        "against `bench/baseline_orders_daily.py`, one DuckDB script doing the same work",
        "without artifacts: the typed CSV read keeping rejected lines, the eight rules with",
        "a reason per failing row, the join, the aggregate, the partitioned Parquet output.",
        f"Pairs: {len(result['pairs'])} after one warm-up pair not counted, which side goes",
        "first alternating, the input read into the page cache before every run (outside",
        "the timing; this machine's cache drops files within minutes); both outputs are",
        "compared row by row in every pair. The ratio is baseline time / Ferry time",
        "(higher is better for Ferry), the median of the pairs'. Run it alone with",
        "`python -m bench pipeline`.",
        "",
        *_table(
            ["pair", "Ferry s", "baseline s", "ratio"],
            [
                [
                    str(n),
                    f"{p['ferry']['seconds']:.2f}",
                    f"{p['baseline']['seconds']:.2f}",
                    f"{p['ratio']:.3f}",
                ]
                for n, p in enumerate(result["pairs"], start=1)
            ],
        ),
        "",
        f"Baseline / Ferry: **{result['ratio']:.3f}x** (target >= {TARGET}x, floor {FLOOR}x: "
        f"{_verdict(result['ratio'])}).",
        "",
        f"Load average (1 min) before and after the pairs: {_load(result)} on "
        f"{os.cpu_count()} cores; on a machine busy with other work wall times stretch and "
        "the ratio moves, so read it next to the CPU seconds.",
        "",
        *_table(
            ["side (median run)", "wall s", "CPU s", "CPU/wall", "peak RSS MB"],
            [
                [
                    name,
                    f"{side['seconds']:.2f}",
                    f"{side['cpu_seconds']:.2f}",
                    f"{side['cpu_per_wall']:.2f}",
                    f"{side['peak_rss_mb']:.0f}" if side.get("peak_rss_mb") else "-",
                ]
                for name, side in (("ferry run", ferry), ("DuckDB script", baseline))
            ],
        ),
        "",
        "Ferry's steps in its median run: share of the run's wall time, CPU seconds and "
        "peak RSS (from each step's `step_finished` log line), and "
        + (
            f"peak RSS at {large_rows} rows"
            if large
            else "no larger-input run this time (`--large-rows 0`)"
        )
        + f" (targets: <= {RSS_LIMIT_MB} MiB, growth <= {RSS_GROWTH_LIMIT}x). Shares add "
        "up to more than 100% where steps run at the same time.",
        "",
        *_table(
            [
                "step",
                "seconds",
                "share",
                "CPU s",
                f"RSS MB {rows:,}",
                f"RSS MB {large_rows}",
                "growth",
                "target",
            ],
            _step_rows(result),
        ),
    ]
    return "\n".join(lines) + "\n"


def replace_section(page: str, section: str, heading: str = SECTION) -> str:
    """``page`` with its section under ``heading`` replaced by ``section`` (appended if absent).

    ``section`` may hold several ``## `` sections; only the one under ``heading`` goes.
    """
    start = page.find(heading)
    if start == -1:
        return page.rstrip("\n") + "\n\n" + section
    end = page.find("\n## ", start + len(heading))
    rest = page[end + 1 :] if end != -1 else ""
    return page[:start] + section + ("\n" + rest if rest else "")
