"""Benchmark: peak memory of the ``python`` step at two input sizes.

The claim it supports: the step streams, so its peak RSS is flat between 10M and 30M
rows. The step runs ``bench.python_functions:gross_amount`` (every order plus one
column computed with pyarrow per batch) as ``python -m steps python``, a fresh
process as in a pod; ``make bench`` runs it over the transform benchmark's orders
(``transform_bench.main``) and shows it in the peak-RSS table.

Alone: ``python -m bench.python_bench --rows 10000000 --large-rows 30000000``.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import Measured, measure, step_command

REPO = Path(__file__).resolve().parent.parent
FUNCTION = "bench.python_functions:gross_amount"

GENERATE = """
import sys
from bench.common import write_orders_artifact
write_orders_artifact(sys.argv[1], int(sys.argv[2]))
"""


def run(store: Path, orders: Path) -> Measured:
    """Run the python step over the ``orders`` artifact; measure it."""
    config = json.dumps({"function": FUNCTION, "inputs": ["orders"]})
    output = store / "artifacts" / "bench" / "orders-gross"
    command = step_command(
        "python",
        "orders-gross",
        str(store),
        config,
        *("--input", f"orders={orders}", "--output", str(output)),
    )
    measured = measure(command, env={"PYTHONPATH": str(REPO)})
    if measured.exit_code == 0:  # the figures count only if every row went through
        rows_in = _rows(orders)
        rows_out = _rows(output)
        if rows_out != rows_in:
            error = f"python step wrote {rows_out} rows of {rows_in}"
            measured = Measured(measured.seconds, measured.peak_rss_mb, 1, error)
    shutil.rmtree(output, ignore_errors=True)
    return measured


def _rows(artifact: Path) -> int:
    return int(json.loads((artifact / "_manifest.json").read_text())["rows"]["data"])


def measure_at(rows: int, workdir: str | None = None) -> Measured:
    """Generate ``rows`` orders and run the step over them."""
    store = Path(tempfile.mkdtemp(prefix="ferry-bench-python-", dir=workdir))
    orders = store / "artifacts" / "bench" / "orders"
    try:
        generated = measure([sys.executable, "-c", GENERATE, str(orders), str(rows)])
        if generated.exit_code:
            raise SystemExit(f"generating {rows} orders failed: {generated.error}")
        return run(store, orders)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Measure at both sizes; print peak RSS at each and their ratio."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.python_bench",
        description="Peak RSS of the python step at two input sizes.",
        epilog="example: python -m bench.python_bench --rows 10000000 --large-rows 30000000",
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="smaller input size")
    parser.add_argument("--large-rows", type=int, default=30_000_000, help="larger input size")
    parser.add_argument("--workdir", help="folder for the generated data (default: $TMPDIR)")
    args = parser.parse_args(argv)
    results = {rows: measure_at(rows, args.workdir) for rows in (args.rows, args.large_rows)}
    for rows, result in results.items():
        status = "ok" if result.exit_code == 0 else f"failed: {result.error}"
        print(
            f"python step, {rows:,} rows: {result.seconds:.1f} s, "
            f"{rows / result.seconds:,.0f} rows/s, peak RSS {result.peak_rss_mb:.0f} MB ({status})"
        )
    small, large = results[args.rows], results[args.large_rows]
    ratio = large.peak_rss_mb / small.peak_rss_mb
    print(f"peak RSS {args.large_rows:,} / {args.rows:,} rows: {ratio:.2f}x")
    return 0 if all(r.exit_code == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
