"""What the benchmarks share: a deterministic order generator and measured subprocesses."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

CHUNK_ROWS = 1_000_000
"""Rows generated at a time, so generating 30M rows never holds more than one chunk."""

STATUSES = pa.array(["new", "paid", "shipped", "delivered", "cancelled"])
COUNTRIES = pa.array(["DE", "FR", "NL", "US", "GB", "PL", "ES", "IT"])
START = np.datetime64("2024-01-01T00:00:00", "us")
YEAR_US = 365 * 24 * 3600 * 1_000_000


def order_chunks(rows: int, seed: int = 7) -> Iterator[pa.RecordBatch]:
    """Yield ``rows`` order rows as record batches of up to ``CHUNK_ROWS``; same seed, same rows."""
    for first in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - first)
        rng = np.random.default_rng([seed, first])
        yield pa.record_batch(
            {
                "order_id": pa.array(np.arange(first, first + n, dtype=np.int64)),
                "customer_id": pa.array(rng.integers(1, 1_000_000, n, dtype=np.int64)),
                "status": STATUSES.take(pa.array(rng.integers(0, len(STATUSES), n))),
                "country": COUNTRIES.take(pa.array(rng.integers(0, len(COUNTRIES), n))),
                "amount": pa.array(np.round(rng.gamma(2.0, 40.0, n) - 5.0, 2)),
                "ordered_at": pa.array(
                    START + rng.integers(0, YEAR_US, n).astype("timedelta64[us]")
                ),
            }
        )


def write_orders_artifact(uri: str, rows: int) -> str:
    """Commit ``rows`` generated orders as the artifact of a step named ``orders``."""
    from steps.runtime.artifacts import ArtifactWriter
    from steps.runtime.store import open_location

    writer = ArtifactWriter(open_location(uri), pipeline="bench", step="orders", run_id="bench")
    for batch in order_chunks(rows):
        writer.write(batch)
    writer.commit()
    return uri


@dataclass(frozen=True)
class Measured:
    """One subprocess run: wall time, peak resident memory, CPU time, how it ended.

    ``peak_rss_mb`` is the largest of the process and its waited-for descendants;
    ``cpu_seconds`` (user + system) adds them all up.
    """

    seconds: float
    peak_rss_mb: float
    exit_code: int
    error: str
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return asdict(self)


def measure(args: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``args`` and measure it; peak RSS comes from ``wait4`` (the child's ``ru_maxrss``)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})}
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return Measured(
        seconds=round(seconds, 3),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        exit_code=proc.returncode,
        error=lines[-1] if proc.returncode and lines else "",
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
    )


def step_command(kind: str, step: str, store: str, config: str, *extra: str) -> list[str]:
    """``python -m steps KIND ...`` for a benchmark run."""
    return [
        sys.executable,
        "-m",
        "steps",
        kind,
        *("--pipeline", "bench", "--step", step, "--run-id", "bench", "--store", store),
        *("--config", config, *extra),
    ]


def dag_tasks(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The tasks of a run record's DAG, in the record's order: no exit-handler or hook tasks."""
    return [t for t in record["tasks"] if t.get("hook") is None]
