"""The pipeline benchmark's own parts: the output comparison and its section of the page."""

from pathlib import Path

import duckdb

from bench.pipeline_bench import SECTION, replace_section, same_output


def _dataset(folder: Path, rows: list[tuple[str, str, int, float]]) -> Path:
    values = ", ".join(f"(DATE '{d}', '{c}', 'placed', 'EUR', {n}, {r})" for d, c, n, r in rows)
    duckdb.sql(
        f"COPY (SELECT * FROM (VALUES {values}) t(order_date, country, status, currency, "
        f"orders, revenue)) TO '{folder}' (FORMAT parquet, PARTITION_BY (order_date))"
    )
    return folder


ROWS = [("2026-11-01", "DE", 3, 10.25), ("2026-11-02", "FR", 1, 0.1 + 0.2)]


def test_the_same_rows_match_whatever_the_float_summation_order(tmp_path: Path) -> None:
    a = _dataset(tmp_path / "a", ROWS)
    b = _dataset(tmp_path / "b", [ROWS[0], ("2026-11-02", "FR", 1, 0.3)])
    assert same_output(a, b) == ""


def test_a_differing_count_or_revenue_is_named(tmp_path: Path) -> None:
    a = _dataset(tmp_path / "a", ROWS)
    fewer = _dataset(tmp_path / "fewer", ROWS[:1])
    assert same_output(a, fewer) == "ferry wrote 2 rows, the baseline 1"
    other = _dataset(tmp_path / "other", [ROWS[0], ("2026-11-02", "FR", 2, 0.3)])
    assert same_output(a, other).startswith("first differing row: ferry (datetime.date(2026")


def test_the_section_is_replaced_in_place_or_appended() -> None:
    page = f"# Benchmarks\n\n## A\n\na\n\n{SECTION}\n\nold\n\n## B\n\nb\n"
    new = f"{SECTION}\n\nnew\n"
    assert replace_section(page, new) == f"# Benchmarks\n\n## A\n\na\n\n{new}\n## B\n\nb\n"
    assert replace_section("# Benchmarks\n", new) == f"# Benchmarks\n\n{new}"
