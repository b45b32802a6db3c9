"""Benchmark: the transform step against DuckDB alone, plus peak memory of other steps.

``python -m bench.transform_bench --rows 10000000`` generates that many orders as an
artifact, runs one aggregation through ``python -m steps transform`` and the same
SQL through DuckDB directly (``COPY ... TO`` Parquet with the settings the step
uses by default: same memory limit, row order not preserved without ORDER BY), and
reports rows/s of each, their ratio, and the peak RSS of every subprocess,
including the ``check``, ``python``, ``load-parquet`` and ``extract-files`` steps over
the same rows. The transform runs with its default config, so the figures are what a user gets.
"""

import argparse
import importlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import python_bench
from bench.common import Measured, measure, step_command
from steps.transform.config import TransformConfig

MEMORY_LIMIT = TransformConfig(sql="SELECT 1").memory_limit

AGGREGATE_SQL = """
SELECT CAST(ordered_at AS DATE) AS day, status,
       count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_amount,
       max(amount) AS max_amount, count(DISTINCT country) AS countries
FROM orders
WHERE amount > 0 AND status <> 'cancelled'
GROUP BY ALL
"""

ENRICH_SQL = """
SELECT *, amount * 1.19 AS gross_amount, CAST(ordered_at AS DATE) AS day
FROM orders
WHERE status <> 'cancelled'
"""

TRANSFORMS: dict[str, tuple[str, dict[str, Any]]] = {
    "aggregate": (AGGREGATE_SQL, {}),
    "enrich": (ENRICH_SQL, {}),
    "enrich-ordered": (ENRICH_SQL, {"keep_order": True}),
}
"""Shapes of transform, each with its config over the defaults: a small result (fixed
start-up cost dominates), a result about as large as the input (the data path
dominates), and the same with the input's row order kept."""

REPEATS = 7
"""Each transform and its DuckDB baseline run as this many pairs, the order alternating
within a pair; the ratio is the median of the pairs' ratios, so a slow spell of a
shared machine, which hits both runs of a pair, cancels out."""

CHECK_RULES = [
    {"rule": "not_null", "column": "order_id"},
    {"rule": "unique", "columns": ["order_id"]},
    {
        "rule": "accepted_values",
        "column": "status",
        "values": ["new", "paid", "shipped", "delivered"],
    },
    {"rule": "range", "column": "amount", "min": 0},
]

GENERATE = """
import sys
from bench.common import write_orders_artifact
write_orders_artifact(sys.argv[1], int(sys.argv[2]))
"""

DUCKDB_DIRECT = """
import json, sys, duckdb
files, sql, out, memory_limit, keep_order = sys.argv[1:6]
settings = {"memory_limit": memory_limit, "preserve_insertion_order": keep_order == "1"}
con = duckdb.connect(config=settings)
listed = ", ".join("'" + f + "'" for f in json.loads(files))
con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet([{listed}])")
con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
"""


def _data_files(artifact: Path) -> list[str]:
    manifest = json.loads((artifact / "_manifest.json").read_text())
    return [str(artifact / name) for name in manifest["files"]["data"]]


def _extract_files_command(store: Path, artifact: Path) -> list[str] | str:
    """The extract-files run over the generated Parquet, or why it is skipped."""
    try:
        importlib.import_module("steps.extract.files.step")
    except ImportError as err:
        return f"skipped: not available ({err})"
    config = json.dumps({"path": str(artifact / "data" / "*.parquet"), "format": "parquet"})
    output = str(store / "artifacts" / "bench" / "orders-copy")
    return step_command("extract-files", "orders-copy", str(store), config, "--output", output)


def _summary(rows: int, run: Measured | str) -> dict[str, Any]:
    if isinstance(run, str):
        return {"status": run}
    ok = run.exit_code == 0
    return {
        "status": "ok" if ok else f"failed: {run.error}",
        "rows_per_s": round(rows / run.seconds) if ok and run.seconds else None,
        **run.to_dict(),
    }


def main(rows: int, workdir: str | None = None) -> dict[str, Any]:
    """Generate ``rows`` orders, run every measured command over them, return the results."""
    store = Path(tempfile.mkdtemp(prefix="ferry-bench-", dir=workdir))
    artifacts = store / "artifacts" / "bench"
    orders = artifacts / "orders"
    pair_ratios: dict[str, float | None] = {}
    try:
        runs: dict[str, Measured | str] = {
            "generate": measure([sys.executable, "-c", GENERATE, str(orders), str(rows)])
        }
        files = json.dumps(_data_files(orders))
        for name, (sql, overrides) in TRANSFORMS.items():
            settings = TransformConfig(sql=sql, **overrides)
            ferry_command = step_command(
                "transform",
                name,
                str(store),
                json.dumps({"sql": sql, **overrides}),
                *("--input", f"orders={orders}", "--output", str(artifacts / name)),
            )
            duckdb_command = [
                *(sys.executable, "-c", DUCKDB_DIRECT, files, sql),
                *(str(store / f"duckdb-{name}.parquet"), settings.memory_limit),
                "1" if settings.keep_order else "0",
            ]
            pairs = [_run_pair(ferry_command, duckdb_command, i % 2 == 1) for i in range(REPEATS)]
            runs[f"transform-{name}"] = _median([ferry for ferry, _ in pairs])
            runs[f"duckdb-{name}"] = _median([duckdb for _, duckdb in pairs])
            pair_ratios[name] = _median_ratio(pairs)
        check_config = json.dumps({"rules": CHECK_RULES, "threshold": 0})
        runs["check"] = measure(
            step_command(
                "check",
                "orders-checked",
                str(store),
                check_config,
                *("--input", f"orders={orders}", "--output", str(artifacts / "orders-checked")),
            )
        )
        load_config = json.dumps(
            {"path": str(store / "dataset"), "partition_by": ["status"], "mode": "overwrite"}
        )
        runs["load-parquet"] = measure(
            step_command(
                "load-parquet", "publish", str(store), load_config, "--input", f"orders={orders}"
            )
        )
        runs["python"] = python_bench.run(store, orders)
        extract = _extract_files_command(store, orders)
        runs["extract-files"] = extract if isinstance(extract, str) else measure(extract)
    finally:
        shutil.rmtree(store, ignore_errors=True)
    results = {name: _summary(rows, run) for name, run in runs.items()}
    return {
        "rows": rows,
        "memory_limit": MEMORY_LIMIT,
        "sql": {
            name: " ".join(sql.split()) + (f" with {json.dumps(overrides)}" if overrides else "")
            for name, (sql, overrides) in TRANSFORMS.items()
        },
        "runs": results,
        "ferry_over_duckdb": pair_ratios,
    }


def _run_pair(
    ferry_command: list[str], duckdb_command: list[str], duckdb_first: bool
) -> tuple[Measured, Measured]:
    """One transform run and one baseline run, back to back; returns (ferry, duckdb)."""
    if duckdb_first:
        duckdb = measure(duckdb_command)
        return measure(ferry_command), duckdb
    ferry = measure(ferry_command)
    return ferry, measure(duckdb_command)


def _median_ratio(pairs: list[tuple[Measured, Measured]]) -> float | None:
    """Median over pairs of Ferry's throughput over DuckDB's (same rows: the time ratio)."""
    if any(ferry.exit_code or duckdb.exit_code for ferry, duckdb in pairs):
        return None
    ratios = sorted(duckdb.seconds / ferry.seconds for ferry, duckdb in pairs)
    return round(ratios[len(ratios) // 2], 3)


def _median(runs: list[Measured]) -> Measured:
    """The run with the median duration (a failed run, if any, so failures show)."""
    failed = [r for r in runs if r.exit_code != 0]
    if failed:
        return failed[0]
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def table(result: dict[str, Any]) -> str:
    """The results as a fixed-width text table."""
    lines = [
        f"{result['rows']:,} rows, DuckDB memory_limit {result['memory_limit']}",
        f"{'run':<26}{'seconds':>10}{'rows/s':>14}{'peak RSS MB':>14}  status",
    ]
    for name, run in result["runs"].items():
        seconds = f"{run['seconds']:.2f}" if "seconds" in run else "-"
        rate = f"{run['rows_per_s']:,}" if run.get("rows_per_s") else "-"
        rss = f"{run['peak_rss_mb']:.0f}" if "peak_rss_mb" in run else "-"
        lines.append(f"{name:<26}{seconds:>10}{rate:>14}{rss:>14}  {run['status']}")
    for name, ratio in result["ferry_over_duckdb"].items():
        lines.append(f"transform throughput / DuckDB alone ({name}): {ratio}")
    return "\n".join(lines)


def cli(argv: list[str] | None = None) -> int:
    """``python -m bench.transform_bench --rows N [--workdir DIR] [--json FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.transform_bench",
        description="Time the transform step against DuckDB alone and measure step peak RSS.",
        epilog="example: python -m bench.transform_bench --rows 10000000 --json bench.json",
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="orders to generate")
    parser.add_argument("--workdir", help="folder for the generated data (default: $TMPDIR)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    result = main(args.rows, args.workdir)
    print(table(result))
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    failed = [name for name, run in result["runs"].items() if run["status"].startswith("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(cli())
