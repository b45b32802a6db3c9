"""A SQL table split into key ranges, extracted and loaded per range, idempotent on retry."""

import json
import sqlite3
import textwrap
from pathlib import Path

from tests.e2e.ferry_cli import ferry

PIPELINE = """\
from workflows import (
    KeyRanges, Pipeline, SameAs, Source, SqlExtract, SqlTableLoad, Target, partition,
)

DB = {url!r}

pipeline = Pipeline(
    name="by-key-range",
    steps=[
        Source(
            name="orders",
            partitions=KeyRanges(
                source=SqlExtract(url=DB, table="orders"), column="id", count=3, parallelism=2
            ),
            config=SqlExtract(url=DB, query=(
                "select id, note from orders "
                f"where id >= cast({{partition('lower')}} as integer) "
                f"and id < cast({{partition('upper')}} as integer)"
            )),
        ),
        Target(
            name="copy",
            input="orders",
            partitions=SameAs(step="orders"),
            config=SqlTableLoad(url=DB, table="orders_copy", mode="append"),
        ),
    ],
)
"""


def test_key_ranges_extract_and_load_per_range(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (id integer, note text)")
        conn.executemany("insert into orders values (?, ?)", [(i, f"n{i}") for i in range(1, 11)])
    (tmp_path / "p.py").write_text(textwrap.dedent(PIPELINE.format(url=f"sqlite://{db}")))
    common = ("--store", "store", "--output", "json")

    done = ferry(
        "run", "by-key-range", "--pipelines", str(tmp_path / "p.py"), *common, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    tasks = {t["name"]: t for t in record["tasks"]}
    assert [json.loads(p["item"]) for p in tasks["orders"]["partitions"]] == [
        {"key": "1", "lower": "1", "upper": "5"},
        {"key": "5", "lower": "5", "upper": "9"},
        {"key": "9", "lower": "9", "upper": "11"},
    ]
    assert [p["rows_out"] for p in tasks["orders"]["partitions"]] == [4, 4, 2]
    assert [p["rows_out"] for p in tasks["copy"]["partitions"]] == [4, 4, 2]

    again = ferry("retry", record["run_id"], "--from", "copy", *common, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select id from orders_copy order by id").fetchall()
    assert [r[0] for r in rows] == list(range(1, 11))  # one copy per partition's ledger row
