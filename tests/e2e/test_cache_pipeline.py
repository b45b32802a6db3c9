"""Step caching through ``ferry run``: hits, invalidation by input, SQL, parameter; --no-cache."""

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.e2e.ferry_cli import ferry

PIPELINE = """\
from workflows import FilesExtract, ParquetDatasetLoad, Pipeline, Source, Target, Transform, param

pipeline = Pipeline(
    name="cached-orders",
    params={"data_dir": "data", "output_dir": "out", "min_amount": "0"},
    steps=[
        Source(name="orders", cache=True,
               config=FilesExtract(path=f"{param('data_dir')}/orders/*.csv", format="csv")),
        Source(name="regions", cache=True,
               config=FilesExtract(path=f"{param('data_dir')}/regions.csv", format="csv")),
        Transform(name="big", inputs=["orders"], cache=True,
                  sql=f"select * from orders where amount >= cast({param('min_amount')} as bigint)"
                      " order by id"),
        Transform(name="joined", inputs=["big", "regions"], cache=True, sql=JOINED),
        Target(name="out", input="joined",
               config=ParquetDatasetLoad(path=f"{param('output_dir')}/joined", mode="overwrite")),
    ],
)
"""

JOINED = "select b.id, b.amount, r.region from big b join regions r using (id) order by b.id"
CACHED = ("orders", "regions", "big", "joined")


def definition(tmp_path: Path, joined: str = JOINED) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / "cached.py").write_text(f"JOINED = {joined!r}\n" + PIPELINE)


def project(tmp_path: Path) -> None:
    definition(tmp_path)
    orders = tmp_path / "data" / "orders"
    orders.mkdir(parents=True, exist_ok=True)
    (orders / "a.csv").write_text("id,amount\n1,10\n2,20\n")
    (orders / "b.csv").write_text("id,amount\n3,30\n")
    (tmp_path / "data" / "regions.csv").write_text("id,region\n1,north\n2,south\n3,east\n")


def run(tmp_path: Path, *extra: str) -> dict[str, Any]:
    result = ferry(
        "run", "cached-orders", "--pipelines", str(tmp_path / "pipelines"), "--store", "store",
        "--output", "json", *extra, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def hits(record: dict[str, Any]) -> dict[str, str | None]:
    return {t["name"]: t["cached_from"] for t in record["tasks"]}


def artifact_bytes(tmp_path: Path, record: dict[str, Any], step: str) -> list[bytes]:
    folder = tmp_path / "store" / "artifacts" / record["run_id"] / step
    manifest = json.loads((folder / "_manifest.json").read_text())
    return [(folder / name).read_bytes() for name in manifest["files"]["data"]]


def test_a_second_run_adopts_every_cacheable_step_and_changes_invalidate_downstream(
    tmp_path: Path,
) -> None:
    project(tmp_path)
    first = run(tmp_path)
    assert set(hits(first).values()) == {None}
    rows = pq.read_table(tmp_path / "out" / "joined").to_pylist()
    assert [r["region"] for r in rows] == ["north", "south", "east"]

    second = run(tmp_path)
    assert hits(second) == {**{s: first["run_id"] for s in CACHED}, "out": None}
    joined = next(t for t in second["tasks"] if t["name"] == "joined")
    assert joined["cache_key"] and (joined["rows_in"], joined["rows_out"]) == (6, 3)
    assert pq.read_table(tmp_path / "out" / "joined").to_pylist() == rows
    for step in CACHED:
        assert artifact_bytes(tmp_path, second, step) == artifact_bytes(tmp_path, first, step)

    (tmp_path / "data" / "regions.csv").write_text("id,region\n1,west\n2,south\n3,east\n")
    third = run(tmp_path)
    assert hits(third) == {
        "orders": first["run_id"], "big": first["run_id"], "regions": None, "joined": None,
        "out": None,
    }  # fmt: skip
    assert pq.read_table(tmp_path / "out" / "joined").column("region")[0].as_py() == "west"

    definition(tmp_path, joined=JOINED.replace("order by b.id", "order by b.id desc"))
    fourth = run(tmp_path)
    assert {s for s, source in hits(fourth).items() if source is None} == {"joined", "out"}
    assert pq.read_table(tmp_path / "out" / "joined").column("id").to_pylist() == [3, 2, 1]

    fifth = run(tmp_path, "-p", "min_amount=15")
    assert {s for s, source in hits(fifth).items() if source is None} == {"big", "joined", "out"}
    assert pq.read_table(tmp_path / "out" / "joined").column("id").to_pylist() == [3, 2]

    sixth = run(tmp_path, "--no-cache")
    assert set(hits(sixth).values()) == {None}
    assert not any(t["cache_key"] for t in sixth["tasks"])
