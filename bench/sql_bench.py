"""PostgreSQL throughput of load-sql and extract-sql against psql's \\copy.

Same data, same database, same run: (1) load N rows through the load-sql step vs
``\\copy t FROM file CSV``; (2) extract N rows to Parquet through extract-sql vs
``\\copy (SELECT ...) TO STDOUT`` into a file; (3) upsert N/5 rows over the N-row
table through load-sql. Steps run as subprocesses, exactly as in a pipeline.

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
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGETS = {"load_ratio": 0.7, "extract_ratio": 0.7}


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


def main(rows: int) -> dict[str, Any]:
    """Run the three measurements with ``rows`` rows; return rows/s and ratios."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = f"{ADMIN_URL}?options=-csearch_path%3D{schema}"
    work = Path(tempfile.mkdtemp(prefix="ferry-sql-bench-"))
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        table = _data(rows)
        artifact = _artifact(work / "artifact", table)
        csv_file = work / "data.csv"
        pacsv.write_csv(table, str(csv_file), pacsv.WriteOptions(include_header=False))

        ferry_load = _step(
            "load-sql", "load", work, {"url": url, "table": "t_ferry"}, "--input", f"src={artifact}"
        )
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t_psql (LIKE t_ferry)")
        psql_load = _psql(schema, f"\\copy t_psql FROM '{csv_file}' CSV")

        ferry_extract = _step(
            "extract-sql",
            "extract",
            work,
            {"url": url, "table": "t_ferry"},
            "--output",
            str(work / "extracted"),
        )
        psql_extract = _psql(schema, f"\\copy (SELECT * FROM t_psql) TO '{work / 'out.csv'}' CSV")

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t_upsert AS SELECT * FROM t_ferry")
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
        "load": {
            "ferry_rows_per_s": rows / ferry_load,
            "psql_rows_per_s": rows / psql_load,
            "ratio": psql_load / ferry_load,
        },
        "extract": {
            "ferry_rows_per_s": rows / ferry_extract,
            "psql_rows_per_s": rows / psql_extract,
            "ratio": psql_extract / ferry_extract,
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
