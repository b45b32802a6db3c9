"""PostgreSQL throughput of load-sql and extract-sql against psql's \\copy.

Same data, same database, same run: (1) load N rows through the load-sql step vs
``\\copy t FROM file CSV``; (2) extract N rows to Parquet through extract-sql vs
``\\copy (SELECT ...) TO STDOUT`` into a file; (3) upsert N/5 rows over the N-row
table through load-sql. Steps run as subprocesses, exactly as in a pipeline. Loads
and extracts run as PAIRS pairs with their psql baseline, which of the two goes
first alternating; the ratio is the median of the pairs' ratios, so a slow spell of
a shared machine, which hits both runs of a pair, cancels out.

    python -m bench.sql_bench --rows 5000000
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGETS = {"load_ratio": 0.7, "extract_ratio": 0.7}
PAIRS = 3


def _data(rows: int, offset: int = 0, tag: str = "n") -> pa.Table:
    ids = pa.array(range(offset, offset + rows), pa.int64())
    return pa.table(
        {
            "id": ids,
            "name": pc.binary_join_element_wise(tag, pc.cast(ids, pa.string()), "-"),
            "amount": pc.multiply(pc.cast(ids, pa.float64()), 0.25),
            "created": pc.cast(
                pc.add(pc.multiply(ids, 1_000_000), 1_700_000_000_000_000), pa.timestamp("us")
            ),
        }
    )


def _artifact(path: Path, table: pa.Table) -> str:
    from steps.runtime.artifacts import ArtifactWriter
    from steps.runtime.store import open_location

    writer = ArtifactWriter(open_location(str(path)), pipeline="bench", step="src", run_id="bench")
    for batch in table.to_batches(max_chunksize=100_000):
        writer.write(batch)
    writer.commit(schema=table.schema)
    return str(path)


def _timed(cmd: list[str], **kwargs: Any) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed: {done.stderr.strip()[-500:]}")
    return elapsed


def _step(kind: str, step: str, store: Path, config: dict[str, Any], *extra: str) -> float:
    cmd = [
        sys.executable,
        "-m",
        "steps",
        kind,
        "--pipeline",
        "bench",
        "--step",
        step,
        "--run-id",
        f"bench-{uuid.uuid4().hex[:6]}",
        "--store",
        str(store),
        "--config",
        json.dumps(config),
        *extra,
    ]
    return _timed(cmd, env={**os.environ, "FERRY_OUTPUTS_DIR": str(store / "outputs")})


def _psql(schema: str, command: str) -> float:
    return _timed(
        [
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            ADMIN_URL,
            "-c",
            f"SET search_path TO {schema}",
            "-c",
            command,
        ]
    )


def _paired(ferry: Callable[[int], float], psql: Callable[[int], float]) -> dict[str, float]:
    """Run ``PAIRS`` pairs (argument: the pair's number); medians and the median ratio."""
    pairs = []
    for i in range(PAIRS):
        if i % 2:
            psql_seconds = psql(i)
            pairs.append((ferry(i), psql_seconds))
        else:
            ferry_seconds = ferry(i)
            pairs.append((ferry_seconds, psql(i)))
    middle = PAIRS // 2
    return {
        "ferry_seconds": sorted(f for f, _ in pairs)[middle],
        "psql_seconds": sorted(p for _, p in pairs)[middle],
        "ratio": sorted(p / f for f, p in pairs)[middle],
    }


def main(rows: int) -> dict[str, Any]:
    """Run the three measurements with ``rows`` rows; return rows/s and ratios."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = f"{ADMIN_URL}?options=-csearch_path%3D{schema}"
    work = Path(tempfile.mkdtemp(prefix="ferry-sql-bench-"))
    csv_file = work / "data.csv"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def ferry_load(i: int) -> float:
        config = {"url": url, "table": f"t_ferry_{i}"}
        return _step("load-sql", f"load-{i}", work, config, "--input", f"src={artifact}")

    def psql_load(i: int) -> float:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE t_psql_{i} (LIKE t_ferry_0)")
        return _psql(schema, f"\\copy t_psql_{i} FROM '{csv_file}' CSV")

    def ferry_extract(i: int) -> float:
        config = {"url": url, "table": "t_ferry_0"}
        return _step("extract-sql", f"extract-{i}", work, config, "--output", str(work / f"x{i}"))

    def psql_extract(i: int) -> float:
        return _psql(schema, f"\\copy (SELECT * FROM t_ferry_0) TO '{work / f'out-{i}.csv'}' CSV")

    try:
        table = _data(rows)
        artifact = _artifact(work / "artifact", table)
        pacsv.write_csv(table, str(csv_file), pacsv.WriteOptions(include_header=False))
        load = _paired(ferry_load, psql_load)
        extract = _paired(ferry_extract, psql_extract)

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t_upsert AS SELECT * FROM t_ferry_0")
            conn.execute("ALTER TABLE t_upsert ADD PRIMARY KEY (id)")
        changes = _artifact(work / "changes", _data(rows // 5, offset=rows - rows // 10, tag="u"))
        upsert = {"url": url, "table": "t_upsert", "mode": "upsert", "key": ["id"]}
        ferry_upsert = _step("load-sql", "upsert", work, upsert, "--input", f"src={changes}")
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        shutil.rmtree(work, ignore_errors=True)

    result: dict[str, Any] = {
        "rows": rows,
        "pairs": PAIRS,
        "load": {
            "ferry_rows_per_s": rows / load["ferry_seconds"],
            "psql_rows_per_s": rows / load["psql_seconds"],
            "ratio": load["ratio"],
        },
        "extract": {
            "ferry_rows_per_s": rows / extract["ferry_seconds"],
            "psql_rows_per_s": rows / extract["psql_seconds"],
            "ratio": extract["ratio"],
        },
        "upsert": {"rows": rows // 5, "ferry_rows_per_s": (rows // 5) / ferry_upsert},
        "targets": TARGETS,
    }
    result["meets_targets"] = (
        result["load"]["ratio"] >= TARGETS["load_ratio"]
        and result["extract"]["ratio"] >= TARGETS["extract_ratio"]
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to load and extract")
    print(json.dumps(main(parser.parse_args().rows), indent=2))
