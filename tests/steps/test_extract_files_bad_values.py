"""Many bad values in one CSV batch: every one quarantined at its own line, nothing else.

The cast locates bad values by the value a cast error names (all its repeats at
once) and bisects the rest; this pins the line numbers, raw text and reasons on
input that also has quoted values spanning lines, CRLF line ends and a BOM.
"""

from pathlib import Path

import pytest

from tests.steps.test_extract_files import ok, rows

AMOUNTS = ["n/a", "1.5", "n/a", "", "x1", "2", "n/a", "3e2", "y2", "n/a"]
"""Per record: ``n/a`` repeats, ``x1``/``y2`` are bad once each, ``""`` is null."""


def _csv(newline: str, bom: bool) -> tuple[str, list[tuple[int, str, str]]]:
    """The file text, and per bad record its line, raw text and bad value."""
    lines = ["id,note,amount"]
    bad = []
    record = 1
    for n in range(40):
        amount = AMOUNTS[n % len(AMOUNTS)]
        note = f'"two{newline}lines"' if n % 7 == 3 else f"note {n}"
        lines.append(f"{n},{note},{amount}")
        record += 1
        if amount in ("n/a", "x1", "y2"):
            raw_note = f"two{newline}lines" if n % 7 == 3 else f"note {n}"
            bad.append((record, f"{n},{raw_note},{amount}", amount))
    return ("\ufeff" if bom else "") + newline.join(lines) + newline, bad


@pytest.mark.parametrize(
    ("newline", "bom"), [("\n", False), ("\r\n", True)], ids=["lf", "crlf-bom"]
)
def test_every_bad_value_is_quarantined_at_its_line(
    tmp_path: Path, newline: str, bom: bool
) -> None:
    text, bad = _csv(newline, bom)
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode("utf-8"))
    config = {
        "path": str(path),
        "format": "csv",
        "columns": {"id": "int64", "note": "string", "amount": "float64"},
        "on_bad_row": "quarantine",
        "batch_size": 16,
    }
    reader = ok(tmp_path, config)
    assert rows(reader, "quarantine") == [
        {
            "_ferry_reason": f"{path} line {line}: column 'amount': {value!r} is not a valid "
            "float64",
            "_ferry_source_file": str(path),
            "_ferry_line": line,
            "_ferry_raw": raw,
        }
        for line, raw, value in bad
    ]
    good = rows(reader)
    assert [r["id"] for r in good] == [
        n for n in range(40) if AMOUNTS[n % len(AMOUNTS)] not in ("n/a", "x1", "y2")
    ]
    assert {r["id"]: r["amount"] for r in good}[7] == 300.0
    assert {r["id"]: r["amount"] for r in good}[3] is None
    assert {r["id"]: r["note"] for r in good}[17] == f"two{newline}lines"
