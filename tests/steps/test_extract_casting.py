"""Locating the values a cast rejects: named values in rounds, the rest by bisection."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from steps.extract.files.casting import cast_batch


def _one_by_one(values: list[bytes | None], target: pa.DataType) -> list[int]:
    """The positions that fail when each value is cast alone: the reference."""
    failing = []
    for index, value in enumerate(values):
        try:
            pc.cast(pc.cast(pa.array([value], pa.binary()), pa.string()), target)
        except (pa.ArrowInvalid, OverflowError):
            failing.append(index)
    return failing


@pytest.mark.parametrize(
    ("target", "values"),
    [
        # one bad value repeated, as a planted "n/a" in a number column
        (pa.float64(), [b"1.5", b"n/a", b"2", b"n/a", None, b"n/a", b"3e2"] * 50),
        # more distinct bad values than rounds: the rest is bisected
        (pa.int64(), [b"1"] + [f"x{i}".encode() for i in range(20)] + [b"7", b""] * 3),
        # bytes that are not UTF-8 fail before any number parsing
        (pa.int64(), [b"1", b"\xff\xfe", b"2", b"n/a", b"\xff\xfe", b"99999999999999999999"]),
        (pa.timestamp("us"), [b"2026-11-01 00:00:00", b"'quoted'", b"2026-13-01", b"'quoted'"]),
    ],
)
def test_failing_rows_are_exactly_those_that_fail_alone(
    target: pa.DataType, values: list[bytes | None]
) -> None:
    batch = pa.record_batch({"v": pa.array(values, pa.binary())})
    good, failures = cast_batch(batch, pa.schema([("v", target)]))
    expected = _one_by_one(values, target)
    assert [f.index for f in failures] == expected
    assert good.num_rows == len(values) - len(expected)
    assert [f.value for f in failures] == [values[i] for i in expected]
