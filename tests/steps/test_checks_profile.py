"""The check's column profile: values, the distinct sketch, and drift against the last run."""

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from steps.checks.config import ChecksConfig
from steps.checks.evaluate import BatchEvaluator
from steps.checks.profile import SKETCH_SIZE, HashValues, Profiler, number_hashes
from tests.conftest import run_step
from tests.steps.test_checks import make_input

RULES = [{"rule": "not_null", "column": "id"}]


def orders(rows: int, null_every: int) -> pa.RecordBatch:
    """``rows`` rows whose ``email`` is null on every ``null_every``-th row (0: never)."""
    return pa.record_batch(
        {
            "id": list(range(rows)),
            "email": [
                None if null_every and n % null_every == 0 else f"u{n}@x.io" for n in range(rows)
            ],
        }
    )


def check_run(tmp_path: Path, run_id: str, batch: pa.RecordBatch, **config: Any) -> dict[str, Any]:
    """Run the check as run ``run_id`` of pipeline p; its report and its warning output."""
    folder = tmp_path / run_id
    out = tmp_path / "artifacts" / run_id / "orders-checked"
    outputs = tmp_path / "outputs" / run_id
    result = run_step(
        "check",
        *("--pipeline", "p", "--step", "orders-checked", "--run-id", run_id),
        *("--store", str(tmp_path), "--input", f"orders={make_input(folder, batch)}"),
        *("--output", str(out), "--config", json.dumps({"rules": RULES, **config})),
        env={"FERRY_OUTPUTS_DIR": str(outputs)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    return {"report": report, "warning": (outputs / "warning").read_text()}


def test_a_first_run_has_nothing_to_compare(tmp_path: Path) -> None:
    first = check_run(tmp_path, "r1", orders(100, 10))
    assert first["warning"] == ""
    assert first["report"]["profile_drift"] == {"factor": 2.0, "previous_run": None, "moves": []}
    kept = json.loads((tmp_path / "profiles" / "p" / "orders-checked" / "profile.json").read_text())
    assert kept == {"run_id": "r1", "profile": first["report"]["profile"]}


def test_a_stable_second_run_has_no_warning(tmp_path: Path) -> None:
    check_run(tmp_path, "r1", orders(100, 10))
    second = check_run(tmp_path, "r2", orders(150, 10))
    assert second["warning"] == ""
    assert second["report"]["profile_drift"] == {"factor": 2.0, "previous_run": "r1", "moves": []}


def test_a_doubled_null_share_is_a_warning(tmp_path: Path) -> None:
    check_run(tmp_path, "r1", orders(100, 10))
    second = check_run(tmp_path, "r2", orders(100, 5))
    move = "column 'email' null share 0.1000 -> 0.2000 (2.00x)"
    assert second["report"]["profile_drift"]["moves"] == [move]
    assert second["warning"] == (
        f"profile drift since run r1: {move} (profile_drift 2.0); check the upstream data, "
        "or raise profile_drift (None switches it off)"
    )


def test_row_count_and_nulls_from_zero_are_moves(tmp_path: Path) -> None:
    check_run(tmp_path, "r1", orders(100, 0))
    second = check_run(tmp_path, "r2", orders(300, 7), profile_drift=3.0)
    assert second["report"]["profile_drift"]["moves"] == [
        "rows 100 -> 300 (3.00x)",
        "column 'email' null share 0.0000 -> 0.1433 (from zero)",
    ]


def test_profile_drift_none_switches_the_comparison_off(tmp_path: Path) -> None:
    check_run(tmp_path, "r1", orders(100, 10))
    second = check_run(tmp_path, "r2", orders(100, 2), profile_drift=None)
    assert second["warning"] == ""
    assert second["report"]["profile_drift"] is None
    assert second["report"]["profile"]["columns"][1]["null_share"] == 0.5


def test_a_damaged_kept_profile_counts_as_none(tmp_path: Path) -> None:
    kept = tmp_path / "profiles" / "p" / "orders-checked" / "profile.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("{not json")
    first = check_run(tmp_path, "r1", orders(10, 2))
    assert first["warning"] == ""
    assert first["report"]["profile_drift"]["previous_run"] is None


@pytest.mark.parametrize("factor", [1.0, 0.5])
def test_a_factor_of_one_or_less_is_refused(factor: float) -> None:
    with pytest.raises(ValidationError, match="greater than 1"):
        ChecksConfig.model_validate({"rules": RULES, "profile_drift": factor})


def _profile(*batches: pa.RecordBatch) -> dict[str, Any]:
    """Profile batches with DuckDB's hash for the text columns, as the step does."""
    import duckdb

    profiler = Profiler(batches[0].schema)
    con = duckdb.connect()
    for batch in batches:
        profiler.add(batch, _hashes(con, profiler, batch), _hash_values(con))
    return profiler.to_dict()


def test_distinct_estimates_beyond_the_sketch_are_close() -> None:
    rows = 200_000
    batches = [
        pa.record_batch(
            {
                "n": pa.array(range(start, start + 50_000), pa.int64()),
                "text": [f"value-{v}" for v in range(start, start + 50_000)],
                "few": pa.array([v % 7 for v in range(start, start + 50_000)], pa.int64()),
            }
        )
        for start in range(0, rows, 50_000)
    ]
    columns = {c["name"]: c for c in _profile(*batches)["columns"]}
    assert columns["n"]["distinct_estimate"] == pytest.approx(rows, rel=0.05)
    assert columns["text"]["distinct_estimate"] == pytest.approx(rows, rel=0.05)
    assert columns["text"]["top_values"] is None  # too many values to count
    assert columns["few"]["distinct_estimate"] == 7  # below the sketch size: exact
    assert rows > SKETCH_SIZE


def test_dates_times_and_all_null_columns() -> None:
    batch = pa.record_batch(
        {
            "day": [dt.date(2026, 11, 2), None, dt.date(2026, 11, 1)],
            "at": pa.array([dt.datetime(2026, 11, 1, 8), dt.datetime(2026, 11, 1, 9), None]),
            "nothing": pa.nulls(3, pa.float64()),
            "flag": [True, False, True],
        }
    )
    columns = _profile(batch)["columns"]
    assert columns == [
        {
            "name": "day",
            "type": "date",
            "nulls": 1,
            "null_share": 0.333333,
            "distinct_estimate": 2,
            "min": "2026-11-01",
            "max": "2026-11-02",
        },
        {
            "name": "at",
            "type": "timestamp",
            "nulls": 1,
            "null_share": 0.333333,
            "distinct_estimate": 2,
            "min": "2026-11-01T08:00:00",
            "max": "2026-11-01T09:00:00",
        },
        {
            "name": "nothing",
            "type": "float64",
            "nulls": 3,
            "null_share": 1.0,
            "distinct_estimate": 0,
            "min": None,
            "max": None,
            "mean": None,
        },
        {"name": "flag", "type": "bool", "nulls": 0, "null_share": 0.0, "distinct_estimate": 2},
    ]


def test_equal_numbers_hash_alike_and_negative_zero_is_zero() -> None:
    hashes = number_hashes(pa.array([0.0, -0.0, 1.5, None, 1.5]))
    assert len(hashes) == 4
    assert hashes[0] == hashes[1] and hashes[2] == hashes[3] and hashes[0] != hashes[2]


def test_a_failed_warn_gate_leads_the_warning_and_drift_follows(tmp_path: Path) -> None:
    gate = {"rules": [{"rule": "not_null", "column": "email"}], "severity": "warn"}
    check_run(tmp_path, "r1", orders(100, 10), **gate)
    second = check_run(tmp_path, "r2", orders(100, 5), **gate)
    quality, drift = second["warning"].split("; profile drift since run r1: ")
    assert quality.startswith("quality score 0.8000 is below threshold 0.9500")
    assert drift.startswith("column 'email' null share 0.1000 -> 0.2000 (2.00x)")


def _hashes(con: Any, profiler: Profiler, batch: pa.RecordBatch) -> dict[str, pa.Array]:
    """DuckDB's hash per row of the columns the profile needs them for now, as the step."""
    hashed = profiler.hashed_now()
    if not hashed:
        return {}
    con.register("b", pa.Table.from_batches([batch]))
    query = ", ".join(f'hash("{c}")' for c in hashed)
    result = con.sql(f"SELECT {query} FROM b").to_arrow_table()
    con.unregister("b")
    return dict(zip(hashed, [c.combine_chunks() for c in result.columns], strict=True))


def _hash_values(con: Any) -> HashValues:
    return lambda values: BatchEvaluator.hash_values(con, values)


def _every_row_hashed(con: Any, profiler: Profiler, batch: pa.RecordBatch) -> dict[str, pa.Array]:
    """Every hashed column's row hashes, counted or not: the one-thread reference."""
    con.register("b", pa.Table.from_batches([batch]))
    query = ", ".join(f'hash("{c}")' for c in profiler.hashed_columns)
    result = con.sql(f"SELECT {query} FROM b").to_arrow_table()
    con.unregister("b")
    columns = [c.combine_chunks() for c in result.columns]
    return dict(zip(profiler.hashed_columns, columns, strict=True))


@pytest.mark.parametrize("ahead", [1, 3, 40])
def test_summaries_made_ahead_of_their_merge_give_the_profile_of_one_thread(ahead: int) -> None:
    """Workers summarize batches while earlier ones are merged: ``ahead`` batches in flight."""
    import duckdb

    rng = random.Random(3)

    def batch(n: int) -> pa.RecordBatch:
        return pa.record_batch(
            {
                "id": pa.array(range(n * 20_000, (n + 1) * 20_000), pa.int64()),
                "customer": pa.array([rng.randrange(5000) for _ in range(20_000)], pa.int64()),
                "status": [rng.choice(["a", "b", "c"]) for _ in range(20_000)],
                # counted until the 1001st distinct value turns up in the fourth batch
                "grows": [f"g{rng.randrange(300 * (n + 1))}" for _ in range(20_000)],
                "amount": [None if rng.random() < 0.1 else rng.random() for _ in range(20_000)],
            }
        )

    batches = [batch(n) for n in range(12)]
    con = duckdb.connect()
    one_thread = Profiler(batches[0].schema)
    for b in batches:
        one_thread.add(b, _every_row_hashed(con, one_thread, b), _hash_values(con))
    pipelined = Profiler(batches[0].schema)
    summaries = []
    for n, b in enumerate(batches):
        summaries.append(pipelined.summarize(b, _hashes(con, pipelined, b), _hash_values(con)))
        if n + 1 >= ahead:
            pipelined.merge(summaries.pop(0))
    for summary in summaries:
        pipelined.merge(summary)
    assert pipelined.to_dict() == one_thread.to_dict()
    assert pipelined.hashed_now() == ["grows"]  # counting stopped; "status" is still counted
