"""Every common column type of PostgreSQL and MariaDB, extracted without declarations,
arrives as a portable Arrow type and loads into each database (PostgreSQL, MariaDB,
SQLite) from the Parquet artifact, as the table in docs/sources-and-targets-sql.md says."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.targets.sqlhelp import (
    execute,
    fetch,
    last_error,
    read_artifact,
    run_in_process,
    step_args,
)

UUID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

# column: (PostgreSQL type, SQL literal, Arrow type, value in the artifact)
POSTGRES: dict[str, tuple[str, str, pa.DataType, Any]] = {
    "i2": ("smallint", "-2", pa.int16(), -2),
    "i4": ("integer", "4", pa.int32(), 4),
    "i8": ("bigint", "9007199254740993", pa.int64(), 9007199254740993),
    "f4": ("real", "1.5", pa.float32(), 1.5),
    "f8": ("double precision", "2.25", pa.float64(), 2.25),
    "n_12_2": ("numeric(12,2)", "1234567890.12", pa.decimal128(12, 2), Decimal("1234567890.12")),
    "n_free": ("numeric", "0.1", pa.decimal128(38, 18), Decimal("0.1")),
    "n_50_10": (
        "numeric(50,10)",
        "12345678901234567890123456789.0123456789",
        pa.decimal256(50, 10),
        Decimal("12345678901234567890123456789.0123456789"),
    ),
    "money": ("money", "12.34", pa.decimal128(38, 18), Decimal("12.34")),
    "b": ("boolean", "true", pa.bool_(), True),
    "t": ("text", "'it''s ünïcode'", pa.string(), "it's ünïcode"),
    "vc": ("varchar(20)", "'v'", pa.string(), "v"),
    "ch": ("char(3)", "'c'", pa.string(), "c  "),
    "by": ("bytea", "'\\x00ff'", pa.binary(), b"\x00\xff"),
    "d": ("date", "'2024-02-29'", pa.date32(), dt.date(2024, 2, 29)),
    "ts": ("timestamp", "'2024-01-02 03:04:05.123456'", pa.timestamp("us"), None),
    "tstz": ("timestamptz", "'2024-01-02 03:04:05+02'", pa.timestamp("us", "UTC"), None),
    "tm": ("time", "'13:14:15.5'", pa.time64("us"), dt.time(13, 14, 15, 500000)),
    "u": ("uuid", f"'{UUID}'", pa.string(), UUID),
    "j": ("json", """'{"a": [1, 2]}'""", pa.string(), '{"a": [1, 2]}'),
    "jb": ("jsonb", """'{"a": [1, 2]}'""", pa.string(), '{"a": [1, 2]}'),
    "iv": ("interval", "'1 year 2 mons 3 days 04:05:06.5'", pa.string(), "P1Y2M3DT4H5M6.5S"),
    "ai": ("integer[]", "'{1,NULL,3}'", pa.list_(pa.int32()), [1, None, 3]),
    "at": ("text[]", """'{"a","b,\\"c"}'""", pa.list_(pa.string()), ["a", 'b,"c']),
    "ip": ("inet", "'10.0.0.1/8'", pa.string(), "10.0.0.1/8"),
    "mac": ("macaddr", "'08:00:2b:01:02:03'", pa.string(), "08:00:2b:01:02:03"),
    "rng": ("int4range", "'[1,5)'", pa.string(), "[1,5)"),
    "n_100_2": ("numeric(100,2)", "1234.5", pa.string(), "1234.50"),
    "au": ("uuid[]", f"ARRAY['{UUID}'::uuid]", pa.list_(pa.string()), [UUID]),
    "aiv": ("interval[]", "ARRAY['1 day'::interval]", pa.list_(pa.string()), ["P1D"]),
}
POSTGRES_VALUES = {
    "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
    "tstz": dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=dt.UTC),
}

MARIADB: dict[str, tuple[str, str, pa.DataType, Any]] = {
    "i1": ("TINYINT", "-1", pa.int64(), -1),
    "i2": ("SMALLINT", "2", pa.int64(), 2),
    "i4": ("INT", "4", pa.int64(), 4),
    "i8": ("BIGINT", "9007199254740993", pa.int64(), 9007199254740993),
    "u8": ("BIGINT UNSIGNED", "9223372036854775807", pa.int64(), 9223372036854775807),
    "f4": ("FLOAT", "1.5", pa.float64(), 1.5),
    "f8": ("DOUBLE", "2.25", pa.float64(), 2.25),
    "n_12_2": ("DECIMAL(12,2)", "1234567890.12", pa.decimal128(12, 2), Decimal("1234567890.12")),
    "n_50_10": (
        "DECIMAL(50,10)",
        "12345678901234567890123456789.0123456789",
        pa.decimal256(50, 10),
        Decimal("12345678901234567890123456789.0123456789"),
    ),
    "b": ("BOOLEAN", "TRUE", pa.int64(), 1),
    "bit1": ("BIT(1)", "b'1'", pa.bool_(), True),
    "bit8": ("BIT(8)", "b'101'", pa.int64(), 5),
    "t": ("TEXT", "'it''s ünïcode'", pa.string(), "it's ünïcode"),
    "vc": ("VARCHAR(20)", "'v'", pa.string(), "v"),
    "e": ("ENUM('x','y')", "'y'", pa.string(), "y"),
    "by": ("BLOB", "x'00ff'", pa.binary(), b"\x00\xff"),
    "d": ("DATE", "'2024-02-29'", pa.date32(), dt.date(2024, 2, 29)),
    "ts": ("DATETIME(6)", "'2024-01-02 03:04:05.123456'", pa.timestamp("us"), None),
    "tstz": ("TIMESTAMP(6) NULL", "'2024-01-02 01:04:05'", pa.timestamp("us"), None),
    "tm": ("TIME(6)", "'13:14:15.5'", pa.time64("us"), dt.time(13, 14, 15, 500000)),
    "y": ("YEAR", "2024", pa.int64(), 2024),
    "u": ("UUID", f"'{UUID}'", pa.string(), UUID),
    "j": ("JSON", """'{"a": [1, 2]}'""", pa.string(), '{"a": [1, 2]}'),
}
MARIADB_VALUES = {
    "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
    "tstz": dt.datetime(2024, 1, 2, 1, 4, 5),  # TIMESTAMP in UTC, naive like DATETIME
}

# Column types each target gets for an Arrow type (information_schema spelling).
POSTGRES_TYPES = {
    pa.int16(): "smallint",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float32(): "real",
    pa.float64(): "double precision",
    pa.decimal128(12, 2): "numeric(12,2)",
    pa.decimal128(38, 18): "numeric(38,18)",
    pa.decimal256(50, 10): "numeric(50,10)",
    pa.bool_(): "boolean",
    pa.string(): "text",
    pa.binary(): "bytea",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp without time zone",
    pa.timestamp("us", "UTC"): "timestamp with time zone",
    pa.time64("us"): "time without time zone",
    pa.list_(pa.int32()): "integer[]",
    pa.list_(pa.string()): "text[]",
}
MARIADB_TYPES = {
    pa.int16(): "smallint(6)",
    pa.int32(): "int(11)",
    pa.int64(): "bigint(20)",
    pa.float32(): "float",
    pa.float64(): "double",
    pa.decimal128(12, 2): "decimal(12,2)",
    pa.decimal128(38, 18): "decimal(38,18)",
    pa.decimal256(50, 10): "decimal(50,10)",
    pa.bool_(): "tinyint(1)",
    pa.string(): "longtext",
    pa.binary(): "longblob",
    pa.date32(): "date",
    pa.timestamp("us"): "datetime(6)",
    pa.timestamp("us", "UTC"): "datetime(6)",
    pa.time64("us"): "time(6)",
    pa.list_(pa.int32()): "longtext",
    pa.list_(pa.string()): "longtext",
}


SQLITE_TYPES = {
    pa.int16(): "INTEGER",
    pa.int32(): "INTEGER",
    pa.int64(): "INTEGER",
    pa.float32(): "REAL",
    pa.float64(): "REAL",
    pa.decimal128(12, 2): "NUMERIC",
    pa.decimal128(38, 18): "TEXT",
    pa.decimal256(50, 10): "TEXT",
    pa.bool_(): "INTEGER",
    pa.string(): "TEXT",
    pa.binary(): "BLOB",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
    pa.timestamp("us", "UTC"): "TIMESTAMP",
    pa.time64("us"): "TEXT",
    pa.list_(pa.int32()): "TEXT",
    pa.list_(pa.string()): "TEXT",
}


def _url(request: pytest.FixtureRequest, dialect: str, tmp_path: Path | None = None) -> str:
    if dialect == "sqlite":
        assert tmp_path is not None
        return f"sqlite://{tmp_path / 'target.db'}"
    return str(request.getfixturevalue("pg_url" if dialect == "postgresql" else "mysql_url"))


def _create_source(url: str, dialect: str) -> dict[str, tuple[str, str, pa.DataType, Any]]:
    spec = POSTGRES if dialect == "postgresql" else MARIADB
    quote = '"' if dialect == "postgresql" else "`"
    columns = ", ".join(f"{quote}{n}{quote} {t}" for n, (t, *_) in spec.items())
    values = ", ".join(v for _, v, *_ in spec.values())
    nulls = ", ".join("NULL" for _ in spec)
    execute(
        url,
        f"CREATE TABLE typed (id INTEGER, {columns})",
        f"INSERT INTO typed VALUES (1, {values}), (2, {nulls})",
    )
    return spec


def _extract(tmp_path: Path, config: dict[str, Any], capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "artifact"
    args = step_args("extract-sql", "typed", tmp_path / "store", config, output=out)
    return run_in_process(args, capsys), out


def _load(tmp_path: Path, artifact: Path, config: dict[str, Any], capsys, step: str = "to-db"):
    args = step_args("load-sql", step, tmp_path / "store", config, inputs=[f"src={artifact}"])
    return run_in_process(args, capsys)


def _target_types(url: str, dialect: str, table: str) -> dict[str, str]:
    if dialect == "sqlite":
        rows = [(r[1], r[2]) for r in fetch(url, f"PRAGMA table_info({table})")]
    elif dialect == "postgresql":
        rows = fetch(
            url,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            f"WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        )
    else:
        rows = fetch(
            url,
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
            f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'",
        )
    return {str(n): str(t) for n, t in rows}


def _loaded(url: str, dialect: str, table: str, names: list[str]) -> dict[str, Any]:
    quote = "`" if dialect == "mysql" else '"'
    cols = ", ".join(f"{quote}{n}{quote}" for n in names)
    rows = fetch(url, f"SELECT {cols} FROM {table} ORDER BY id")
    assert len(rows) == 2
    assert all(v is None for v in rows[1][1:])
    return dict(zip(names, rows[0], strict=True))


def _same_in_sqlite(name: str, got: Any, want: Any, arrow: pa.DataType) -> None:
    """SQLite keeps decimals, dates, times and lists as numbers or text."""
    if pa.types.is_decimal(arrow):
        got = Decimal(str(got))
    elif pa.types.is_list(arrow):
        got = json.loads(got)
    elif pa.types.is_boolean(arrow):
        want = int(want)
    elif pa.types.is_date(arrow):
        got = dt.date.fromisoformat(got)
    elif pa.types.is_timestamp(arrow):
        got, want = dt.datetime.fromisoformat(got), want.replace(tzinfo=None)
    elif pa.types.is_time(arrow):
        got = dt.time.fromisoformat(got)
    if isinstance(want, float):
        assert got == pytest.approx(want), name
        return
    assert got == want, (name, got, want)


def _same_value(name: str, got: Any, want: Any, arrow: pa.DataType, target: str) -> None:
    if target == "sqlite":
        _same_in_sqlite(name, got, want, arrow)
        return
    if pa.types.is_list(arrow):
        got = json.loads(got) if isinstance(got, str) else got
    elif target == "mysql" and pa.types.is_timestamp(arrow) and arrow.tz:
        want = want.replace(tzinfo=None)  # MariaDB DATETIME holds UTC
    elif target == "mysql" and pa.types.is_time(arrow):
        want = dt.timedelta(
            hours=want.hour, minutes=want.minute, seconds=want.second, microseconds=want.microsecond
        )
    elif target == "mysql" and pa.types.is_boolean(arrow):
        want = int(want)
    elif isinstance(got, memoryview):
        got = bytes(got)
    if name in ("j", "jb") and isinstance(got, str):
        got, want = json.loads(got), json.loads(want)
    if isinstance(got, float) and isinstance(want, float):
        assert got == pytest.approx(want), name
        return
    assert got == want, (name, got, want)


@pytest.mark.parametrize("source", ["postgresql", "mysql"])
def test_every_common_type_is_portable_and_loads_into_each_database(
    source: str, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _url(request, source)
    spec = _create_source(src, source)
    result, artifact = _extract(tmp_path, {"url": src, "table": "typed"}, capsys)
    assert result.returncode == 0, result.stderr
    table, _ = read_artifact(artifact)
    extra = POSTGRES_VALUES if source == "postgresql" else MARIADB_VALUES
    want = {n: extra.get(n, v) for n, (_, _, _, v) in spec.items()}
    assert {f.name: f.type for f in table.schema} == {
        "id": pa.int32() if source == "postgresql" else pa.int64(),
        **{n: t for n, (_, _, t, _) in spec.items()},
    }
    first = next(r for r in table.to_pylist() if r["id"] == 1)
    assert {n: first[n] for n in spec} == want

    for target in ("postgresql", "mysql", "sqlite"):
        dst = src if target == source else _url(request, target, tmp_path)
        name = f"typed_{source}_to_{target}"
        run = _load(tmp_path, artifact, {"url": dst, "table": name}, capsys, step=name)
        assert run.returncode == 0, (target, run.stderr)
        types = {"postgresql": POSTGRES_TYPES, "mysql": MARIADB_TYPES, "sqlite": SQLITE_TYPES}[
            target
        ]
        got_types = _target_types(dst, target, name)
        for column, (_, _, arrow, _) in spec.items():
            assert got_types[column] == types[arrow], (target, column, got_types[column])
        got = _loaded(dst, target, name, ["id", *spec])
        for column, (_, _, arrow, _) in spec.items():
            _same_value(column, got[column], want[column], arrow, target)
        # and back into the column types the source had: the text forms load too
        if target == source:
            typed = f"{name}_typed"
            execute(dst, f"CREATE TABLE {typed} AS SELECT * FROM typed WHERE 1 = 0")
            run = _load(tmp_path, artifact, {"url": dst, "table": typed}, capsys, step=typed)
            assert run.returncode == 0, (target, run.stderr)
            assert len(fetch(dst, f"SELECT * FROM {typed}")) == 2


@pytest.mark.parametrize(
    ("dialect", "column", "literal", "value", "says"),
    [
        ("postgresql", "timestamp", "'infinity'", "'infinity'", "has no Arrow or Parquet"),
        ("postgresql", "timestamptz", "'-infinity'", "'-infinity'", "has no Arrow or Parquet"),
        ("postgresql", "date", "'infinity'", "'infinity'", "has no Arrow or Parquet"),
        (
            "postgresql",
            "numeric(10,2)",
            "'NaN'",
            "'nan'",
            "is not a number decimal128(10, 2) holds",
        ),
        ("postgresql", "numeric", "1::numeric / 3", "'0.33333333333333333333'", "needs more"),
        ("postgresql", "numeric", "'1e30'", "'1000000000000000000000000000000'", "needs more"),
        ("postgresql", "integer[]", "'{{1,2},{3,4}}'", "'2-dimensional array'", "has no portable"),
        (
            "mysql",
            "DATE",
            "'0000-00-00'",
            "'0000-00-00'",
            "is a MariaDB/MySQL zero or partial date",
        ),
        ("mysql", "DATETIME", "'2024-00-10 00:00:00'", "'2024-00-10 00:00:00'", "is a MariaDB"),
        (
            "mysql",
            "BIGINT UNSIGNED",
            "18446744073709551615",
            "18446744073709551615",
            "does not fit int64",
        ),
        ("mysql", "TIME", "'25:00:00'", "'25:00:00'", "is a TIME outside"),
        ("mysql", "TIME", "'-00:00:01'", "'-00:00:01'", "is a TIME outside"),
    ],
)
def test_a_value_no_portable_type_holds_exits_3_naming_table_column_and_value(
    dialect: str,
    column: str,
    literal: str,
    value: str,
    says: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _url(request, dialect)
    relaxed = [] if dialect == "postgresql" else ["SET SESSION sql_mode = ''"]
    execute(
        url,
        *relaxed,
        f"CREATE TABLE odd (id INTEGER, v {column})",
        f"INSERT INTO odd VALUES (1, NULL), (2, NULL), (3, {literal})",
    )
    result, artifact = _extract(tmp_path, {"url": url, "table": "odd"}, capsys)
    assert result.returncode == 3, result.stderr
    message = last_error(result.stderr)
    assert f"reading table 'odd' on {dialect}://" in message
    assert f"column 'v', row 3: {value} {says}" in message
    assert message.endswith("nothing was written, not retried")
    assert not (artifact / "_manifest.json").exists()


def test_a_query_ending_in_a_comment_or_semicolon_is_read_with_and_without_a_cursor(
    request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for dialect in ("postgresql", "mysql"):
        url = _url(request, dialect)
        execute(url, "CREATE TABLE q (id INTEGER, v VARCHAR(10))", "INSERT INTO q VALUES (1, 'a')")
        for query in (
            "SELECT id, v FROM q -- every row",
            "SELECT id, v FROM q;",
            "SELECT id, v FROM q; -- done",
            "SELECT id, '--;' AS v FROM q /* note */ ;",
        ):
            for cursor in (None, {"field": "id", "initial_value": 0}):
                config: dict[str, Any] = {"url": url, "query": query}
                if cursor:
                    config["cursor"] = cursor
                result, artifact = _extract(
                    tmp_path / f"{dialect}{len(query)}{bool(cursor)}", config, capsys
                )
                assert result.returncode == 0, (dialect, query, result.stderr)
                table, _ = read_artifact(artifact)
                assert table.column("id").to_pylist() == [1], (dialect, query)


def test_intervals_read_as_iso_8601_durations_that_postgresql_reads_back(pg_url: str) -> None:
    from steps.databases.postgres.arrow import iso_interval

    cases = {
        (0, 0, 0): "PT0S",
        (14, 3, 14_706_500_000_000): "P1Y2M3DT4H5M6.5S",
        (-13, -1, -1_000): "P-1Y-1M-1DT-0.000001S",
        (1, -2, 3_600_000_000_000): "P1M-2DT1H",
        (0, 0, 59_000_000_000): "PT59S",
    }
    for parts, text in cases.items():
        assert iso_interval(parts) == text
        months, days, nanos = parts
        back = fetch(
            pg_url,
            f"SELECT '{text}'::interval = make_interval(months => {months}, days => {days}, "
            f"secs => {nanos / 1e9})",
        )
        assert back == [(True,)], text


def test_uuid_text_is_canonical_for_slices_and_nulls() -> None:
    import uuid as uuidlib

    from steps.databases.uuids import uuid_text

    values = [uuidlib.uuid4().bytes for _ in range(50)]
    values[3] = None  # type: ignore[call-overload]
    array = pa.array(values, pa.binary(16))
    want = [None if v is None else str(uuidlib.UUID(bytes=v)) for v in values]
    assert uuid_text(array).to_pylist() == want
    assert uuid_text(array.slice(2, 7)).to_pylist() == want[2:9]
    assert uuid_text(array.slice(0, 0)).to_pylist() == []


def test_an_artifact_with_extension_types_from_before_loads_as_text(
    pg_url: str, mysql_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Artifacts written by the earlier extract held arrow.uuid and arrow.json columns."""
    from tests.targets.sqlhelp import write_artifact

    u = pa.ExtensionArray.from_storage(
        pa.uuid(), pa.array([bytes.fromhex(UUID.replace("-", "")), None], pa.binary(16))
    )
    j = pa.ExtensionArray.from_storage(pa.json_(), pa.array(['{"a": 1}', None]))
    artifact = write_artifact(tmp_path / "old", pa.table({"id": [1, 2], "u": u, "j": j}))
    for url in (pg_url, mysql_url):
        args = step_args(
            "load-sql",
            "old",
            tmp_path / "store",
            {"url": url, "table": "old"},
            inputs=[f"src={artifact}"],
        )
        result = run_in_process(args, capsys)
        assert result.returncode == 0, result.stderr
        assert fetch(url, "SELECT id, u, j FROM old ORDER BY id") == [
            (1, UUID, '{"a": 1}'),
            (2, None, None),
        ]
