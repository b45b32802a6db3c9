"""Benchmark: what orchestration costs around the work, and what partitioning costs locally.

Two cases, both through ``ferry run`` (a fresh store each run, ``--no-cache``):

- **Per-step overhead**: ``bench-trivial-chain`` (six steps in a row on a one-row
  input) run ``RUNS`` times. Per step, from the run record and the step's own log:
  *start-up* (the runner starting the attempt until the step program logs
  ``step_started``: interpreter, modules, config), *work* (``step_started`` to
  ``step_finished``), *wrap-up* (``step_finished`` until the runner has the attempt's
  outputs), and *hand-over* (the upstream step finished until this one started).
- **Partitioned vs unpartitioned**: pairs of ``orders-partitioned`` (the demo orders
  extracted and checked per file, four partitions, two at a time; the revenue per
  week) and ``orders-daily`` on the same demo data, which goes first alternating.
  Both outputs' total orders and revenue are compared in every pair (``unique``
  holds per partition in the partitioned pipeline; the demo's repeated ids repeat
  within a file, so both reject the same rows).
"""

import json
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import dag_tasks, measure
from bench.pipeline_bench import demo_data

RUNS = 5
"""Runs of the trivial chain; each figure is the median over runs and steps."""
PAIRS = 3
"""Pairs of (partitioned, unpartitioned) runs; the ratio is the median of the pairs'."""

CHAIN = "bench-trivial-chain"
CHAIN_PIPELINES = Path(__file__).resolve().parent / "pipelines"
OVERHEAD_SECTION = "## Orchestration overhead of the local runner"
PARTITION_SECTION = "## Partitioned vs unpartitioned on one machine"
REVENUE_TOLERANCE = 1e-9


def _ferry(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("ferry")), *args]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _events(log: Path) -> dict[str, datetime]:
    """When the step program logged ``step_started`` and ``step_finished``."""
    found: dict[str, datetime] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        if event.get("event") in ("step_started", "step_finished"):
            found[event["event"]] = _time(event["ts"])
    return found


def step_phases(record: dict[str, Any]) -> list[dict[str, float]]:
    """Per step of a run record: start-up, work, wrap-up and hand-over seconds."""
    tasks = dag_tasks(record)
    previous_finished = _time(record["started"])
    phases = []
    for task in tasks:  # the chain: each task waits for the one before it
        started, finished = _time(task["started"]), _time(task["finished"])
        events = _events(Path(task["log"]))
        phases.append(
            {
                "start_up": (events["step_started"] - started).total_seconds(),
                "work": (events["step_finished"] - events["step_started"]).total_seconds(),
                "wrap_up": (finished - events["step_finished"]).total_seconds(),
                "hand_over": (started - previous_finished).total_seconds(),
            }
        )
        previous_finished = finished
    return phases


def _chain_run(work: Path) -> dict[str, Any]:
    data, store = work / "data", work / "store"
    data.mkdir()
    (data / "one_row.csv").write_text("id,name\n1,a\n")
    command = _ferry(
        *("run", CHAIN, "--pipelines", str(CHAIN_PIPELINES), "--no-cache", "--no-triggers"),
        *("--store", str(store), "-p", f"data_dir={data}", "-p", f"output_dir={work / 'out'}"),
    )
    measured = measure(command)
    if measured.exit_code:
        raise RuntimeError(f"ferry run {CHAIN} failed ({measured.exit_code}): {measured.error}")
    (record_path,) = store.glob(f"runs/{CHAIN}/*/run.json")
    record = json.loads(record_path.read_text())
    return {
        "seconds": measured.seconds,
        "run_seconds": record["duration_seconds"],
        "steps": step_phases(record),
    }


def overhead(runs: int = RUNS) -> dict[str, Any]:
    """The trivial chain ``runs`` times: per-step medians and whole-run medians."""
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="ferry-overhead-bench-") as tmp:
            results.append(_chain_run(Path(tmp)))
    steps = [s for r in results for s in r["steps"]]
    per_step = {k: round(statistics.median(s[k] for s in steps), 3) for k in steps[0]}
    return {
        "runs": runs,
        "steps_per_run": len(results[0]["steps"]),
        "command_seconds": round(statistics.median(r["seconds"] for r in results), 3),
        "run_seconds": round(statistics.median(r["run_seconds"] for r in results), 3),
        "per_step": per_step,
    }


def _totals(dataset: Path) -> tuple[int, float]:
    import duckdb

    orders, revenue = duckdb.sql(
        f"SELECT sum(orders), sum(revenue) FROM read_parquet('{dataset}/*/*.parquet')"
    ).fetchall()[0]
    return int(orders), float(revenue)


def _demo_run(pipeline: str, data: Path, work: Path) -> tuple[float, float, Path]:
    """One ``ferry run`` of a demo pipeline: wall and CPU seconds, and its output dataset."""
    out = work / f"{pipeline}-out"
    command = _ferry(
        *("run", pipeline, "--pipelines", "workflows.pipelines", "--no-cache", "--no-triggers"),
        *("--store", str(work / f"{pipeline}-store")),
        *("-p", f"data_dir={data}", "-p", f"output_dir={out}"),
    )
    measured = measure(command)
    if measured.exit_code:
        raise RuntimeError(f"ferry run {pipeline} failed ({measured.exit_code}): {measured.error}")
    dataset = "partitioned_revenue" if pipeline == "orders-partitioned" else "daily_revenue"
    return measured.seconds, measured.cpu_seconds, out / dataset


def _partition_pair(data: Path, partitioned_first: bool) -> dict[str, Any]:
    order = ["orders-partitioned", "orders-daily"]
    with tempfile.TemporaryDirectory(prefix="ferry-partition-bench-") as tmp:
        work = Path(tmp)
        runs = {p: _demo_run(p, data, work) for p in (order if partitioned_first else order[::-1])}
        (a_orders, a_revenue), (b_orders, b_revenue) = (
            _totals(runs[p][2]) for p in ("orders-partitioned", "orders-daily")
        )
        if a_orders != b_orders or abs(a_revenue - b_revenue) > REVENUE_TOLERANCE * b_revenue:
            raise RuntimeError(
                f"orders-partitioned counted {a_orders} orders and {a_revenue} revenue, "
                f"orders-daily {b_orders} and {b_revenue}"
            )
    partitioned, unpartitioned = runs["orders-partitioned"], runs["orders-daily"]
    return {
        "partitioned_seconds": partitioned[0],
        "partitioned_cpu_seconds": partitioned[1],
        "unpartitioned_seconds": unpartitioned[0],
        "unpartitioned_cpu_seconds": unpartitioned[1],
        "ratio": unpartitioned[0] / partitioned[0],
    }


def partitioned(rows: int, pairs: int = PAIRS) -> dict[str, Any]:
    """Pairs of the partitioned and the unpartitioned demo pipeline on ``rows`` demo rows."""
    data = demo_data(rows)
    measured = [_partition_pair(data, partitioned_first=n % 2 == 0) for n in range(pairs)]
    return {
        "rows": rows,
        "pairs": measured,
        "ratio": round(statistics.median(p["ratio"] for p in measured), 3),
    }


def main(rows: int, pairs: int = PAIRS, runs: int = RUNS) -> dict[str, Any]:
    """Both cases."""
    return {"overhead": overhead(runs), "partitioned": partitioned(rows, pairs)}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def overhead_markdown(result: dict[str, Any]) -> str:
    """The page's section on the runner's per-step overhead."""
    per_step = result["per_step"]
    total = sum(per_step.values())
    lines = [
        OVERHEAD_SECTION,
        "",
        f"`ferry run {CHAIN}` (`bench/pipelines/trivial_chain.py`: "
        f"{result['steps_per_run']} steps in a row on a one-row input, a fresh store, "
        f"`--no-cache`), {result['runs']} runs; medians over every step of every run.",
        "",
        *_table(
            ["phase", "seconds per step", "what it is"],
            [
                [
                    "start-up",
                    f"{per_step['start_up']:.3f}",
                    "attempt started until the step logs `step_started` (interpreter, "
                    "modules, config)",
                ],
                ["work", f"{per_step['work']:.3f}", "`step_started` to `step_finished`"],
                [
                    "wrap-up",
                    f"{per_step['wrap_up']:.3f}",
                    "`step_finished` until the runner has the outputs",
                ],
                [
                    "hand-over",
                    f"{per_step['hand_over']:.3f}",
                    "the step before finished until this one started",
                ],
                ["per step", f"{total:.3f}", ""],
            ],
        ),
        "",
        f"A whole run of the chain: {result['run_seconds']:.2f} s in the run record, "
        f"{result['command_seconds']:.2f} s for the `ferry run` command (with loading the "
        "pipelines, rendering and the summary).",
    ]
    return "\n".join(lines) + "\n"


def partitioned_markdown(result: dict[str, Any]) -> str:
    """The page's section on partitioned vs unpartitioned runs."""
    lines = [
        PARTITION_SECTION,
        "",
        f"`ferry run orders-partitioned` (orders extracted and checked per file: four "
        f"partitions, two at a time; revenue per week) against `ferry run orders-daily` on "
        f"the same {result['rows']:,} demo rows, {len(result['pairs'])} pairs, which goes "
        "first alternating, total orders and revenue of both outputs compared in every "
        "pair. The ratio is unpartitioned time / partitioned time: about 1x is expected on "
        "one machine with two cores, where partitions share the same cores; what it shows "
        "is the cost of partitioning (more pods, more artifacts), which on a cluster buys "
        "spreading the partitions over nodes.",
        "",
        *_table(
            ["pair", "partitioned s", "CPU s", "unpartitioned s", "CPU s", "ratio"],
            [
                [
                    str(n),
                    f"{p['partitioned_seconds']:.2f}",
                    f"{p['partitioned_cpu_seconds']:.2f}",
                    f"{p['unpartitioned_seconds']:.2f}",
                    f"{p['unpartitioned_cpu_seconds']:.2f}",
                    f"{p['ratio']:.3f}",
                ]
                for n, p in enumerate(result["pairs"], start=1)
            ],
        ),
        "",
        f"Unpartitioned / partitioned: **{result['ratio']:.3f}x**.",
    ]
    return "\n".join(lines) + "\n"


def markdown(result: dict[str, Any]) -> str:
    """Both sections."""
    return (
        overhead_markdown(result["overhead"]) + "\n" + partitioned_markdown(result["partitioned"])
    )
