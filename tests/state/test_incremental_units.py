"""The cursor's building blocks: lag arithmetic, bounds per column type, row digests."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from steps.incremental import values as cv
from steps.incremental.digests import digest_columns, row_digests
from steps.runtime.errors import DataRejected, StepUsageError


@pytest.mark.parametrize(
    ("value", "lag", "kind", "expected"),
    [
        (10, 2.5, "int", 8),  # x >= 7.5 <=> x >= 8 for integers
        (1.5, 0.5, "float", 1.0),
        (Decimal("10.25"), 0.25, "decimal", Decimal("10.00")),
        (dt.datetime(2026, 11, 1, 10), 5400, "timestamp", dt.datetime(2026, 11, 1, 8, 30)),
        (dt.date(2026, 11, 3), 3600, "date", dt.date(2026, 11, 2)),  # whole days, rounded up
        (dt.date(2026, 11, 3), None, "date", dt.date(2026, 11, 3)),
    ],
)
def test_minus_lag(value: object, lag: float | None, kind: cv.Kind, expected: object) -> None:
    assert cv.minus_lag(value, lag, kind) == expected


def test_lag_on_text_is_refused() -> None:
    with pytest.raises(StepUsageError, match="lag needs a numeric, date or timestamp cursor"):
        cv.minus_lag("b", 1, "text")


def test_marks_round_trip_through_json() -> None:
    stamp = dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)
    assert cv.to_json(stamp) == "2026-11-01 07:00:00+00:00"
    assert cv.to_json(stamp, time_sep="T") == "2026-11-01T07:00:00Z"
    assert cv.from_json(cv.to_json(stamp), "timestamp") == stamp
    assert cv.from_json(cv.to_json(Decimal("1.10")), "decimal") == Decimal("1.10")
    assert [cv.infer_kind(v) for v in (3, 1.5, "2.5", "2026-11-01", "2026-11-01T07:00Z", "x")] == [
        "int", "float", "decimal", "date", "timestamp", "text",
    ]  # fmt: skip


def test_numeric_and_instant_text_compare_by_meaning() -> None:
    assert cv.comparable(pa.array(["9", "10", None]), True).to_pylist() == [9, 10, None]
    instants = cv.comparable(pa.array(["2026-11-01T07:00:00Z", "2026-11-01T08:00:00+02:00"]), True)
    assert instants.type == pa.timestamp("us", tz="UTC")
    assert cv.comparable(pa.array(["9", "10"]), False).type == pa.string()
    with pytest.raises(DataRejected, match="cursor values mix number and text"):
        cv.comparable(pa.array(["9", "x"]), True)


def test_bounds_take_the_column_type() -> None:
    tz = pa.timestamp("us", tz="UTC")
    assert cv.python_bound("2026-11-01T07:00:00", tz, "lower") == dt.datetime(
        2026, 11, 1, 7, tzinfo=dt.UTC
    )
    assert cv.python_bound("100", pa.int64(), "lower") == 100
    with pytest.raises(DataRejected, match="cannot be compared with the cursor column"):
        cv.python_bound("yesterday", pa.int64(), "lower")


def test_digests_are_unambiguous_and_cover_the_cursor() -> None:
    batch = pa.RecordBatch.from_pydict(
        {"a": ["a", "ab", None, ""], "b": ["bc", "c", "x", "x"], "u": [1, 1, 1, 1]}
    )
    digests = row_digests(batch, digest_columns(["a", "b"], "u", batch.schema.names))
    assert digests.type == pa.binary(16)
    assert len(set(digests.to_pylist())) == 4  # ('a','bc') != ('ab','c'); null != ''
    assert digest_columns(None, "u", ["a", "u"]) == ["a", "u"]
    assert digest_columns(["id"], "u", ["id", "u"]) == ["id", "u"]
    again = row_digests(batch.slice(1, 1), ["a", "b", "u"])
    assert again.to_pylist() == digests.slice(1, 1).to_pylist()
