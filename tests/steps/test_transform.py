"""The ``transform`` step: SQL over local and S3 artifacts, schema, errors, outputs."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.store import open_location
from tests.conftest import run_step

ORDERS = pa.record_batch(
    {
        "order_id": [1, 2, 3, 4],
        "customer_id": [10, 11, 10, 12],
        "amount": [5.0, 7.5, 2.5, 1.0],
    }
)
CUSTOMERS = pa.record_batch({"customer_id": [10, 11], "name": ["Ada", "Bo"]})


def make_artifact(store: str, step: str, batch: pa.RecordBatch) -> str:
    uri = f"{store}/artifacts/r1/{step}"
    writer = ArtifactWriter(open_location(uri), pipeline="p", step=step, run_id="r1")
    writer.write(batch)
    writer.commit()
    return uri


def transform(
    store: str,
    outputs: Path,
    inputs: dict[str, str],
    sql: str,
    env: dict[str, str] | None = None,
    **config: Any,
) -> tuple[Any, str]:
    out = f"{store}/artifacts/r1/daily"
    result = run_step(
        "transform",
        *("--pipeline", "p", "--step", "daily", "--run-id", "r1", "--store", store),
        *(arg for name, uri in inputs.items() for arg in ("--input", f"{name}={uri}")),
        *("--output", out, "--config", json.dumps({"sql": sql, **config})),
        env={"FERRY_OUTPUTS_DIR": str(outputs), **(env or {})},
    )
    return result, out


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.fixture
def two_inputs(tmp_path: Path) -> dict[str, str]:
    store = str(tmp_path)
    return {
        "orders": make_artifact(store, "orders", ORDERS),
        "customers-clean": make_artifact(store, "customers-clean", CUSTOMERS),
    }


JOIN_SQL = (
    'SELECT c.name, sum(o.amount) AS total FROM orders o JOIN "customers-clean" c '
    "USING (customer_id) GROUP BY c.name ORDER BY c.name"
)


@pytest.mark.parametrize(
    "sql", [JOIN_SQL, JOIN_SQL.replace('"customers-clean"', "customers_clean")]
)
def test_joins_two_inputs_by_quoted_name_or_alias(
    tmp_path: Path, two_inputs: dict[str, str], sql: str
) -> None:
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "daily")
    assert reader.dataset().to_table().to_pylist() == [
        {"name": "Ada", "total": 7.5},
        {"name": "Bo", "total": 7.5},
    ]
    outputs = {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}
    assert outputs == {
        "rows_in": "6",
        "rows_out": "2",
        "rows_rejected": "0",
        "quality_score": "1.000000",
        "input_rows": '{"orders":4,"customers-clean":2}',
        "warning": "",
        "cached": "",
    }
    events = [json.loads(line) for line in result.stdout.splitlines()]
    inputs_event = next(e for e in events if e["event"] == "transform_inputs")
    assert inputs_event["rows"] == {"orders": 4, "customers-clean": 2}


def test_leading_statements_run_before_the_output_query(
    tmp_path: Path, two_inputs: dict[str, str]
) -> None:
    sql = (
        "CREATE TEMP TABLE big AS SELECT * FROM orders WHERE amount > 2; "
        "SELECT * FROM big; "
        "SELECT count(*) AS n FROM big"
    )
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == 0, result.stderr
    table = ArtifactReader(open_location(out), "daily").dataset().to_table()
    assert table.to_pylist() == [{"n": 3}]


def test_empty_result_keeps_the_schema(tmp_path: Path, two_inputs: dict[str, str]) -> None:
    sql = "SELECT order_id, amount * 2 AS doubled FROM orders WHERE amount > 100"
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "daily")
    assert reader.rows == 0
    assert reader.schema == pa.schema([("order_id", pa.int64()), ("doubled", pa.float64())])
    assert (tmp_path / "outputs" / "rows_out").read_text() == "0"
    assert (tmp_path / "outputs" / "quality_score").read_text() == "1.000000"


def data_files(out: str) -> list[str]:
    """Every file and folder in the artifact's data/ folder, hidden ones included."""
    return sorted(p.name for p in Path(out, "data").iterdir())


def numbers_artifact(store: str, rows: int) -> str:
    """An artifact of ``n`` = 0..rows-1 in input order, in row groups of 10,000 rows
    (one per batch written), which DuckDB reads in parallel."""
    uri = f"{store}/artifacts/r1/numbers"
    writer = ArtifactWriter(open_location(uri), pipeline="p", step="numbers", run_id="r1")
    for start in range(0, rows, 10_000):
        writer.write(pa.record_batch({"n": pa.array(range(start, start + 10_000), pa.int64())}))
    writer.commit()
    return uri


def written_values(out: str) -> list[int]:
    reader = ArtifactReader(open_location(out), "daily")
    return [v for batch in reader.batches() for v in batch.column("n").to_pylist()]


SMALL_FILES = {"row_group_size": 2048, "rows_per_file": 8192, "threads": 2}


def test_an_unordered_result_is_split_into_files(tmp_path: Path) -> None:
    inputs = {"numbers": numbers_artifact(str(tmp_path), 300_000)}
    sql = "SELECT n FROM numbers WHERE n % 7 <> 0"
    result, out = transform(str(tmp_path), tmp_path / "outputs", inputs, sql, **SMALL_FILES)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "daily")
    assert data_files(out) == sorted(Path(p).name for p in reader.paths())
    rows_per_file = [pq.ParquetFile(p).metadata.num_rows for p in reader.paths()]
    assert len(rows_per_file) > 10
    assert max(rows_per_file) <= 2 * 8192  # about rows_per_file: DuckDB's row groups vary
    assert sorted(written_values(out)) == [n for n in range(300_000) if n % 7 != 0]


@pytest.mark.parametrize(
    ("sql", "config", "expected"),
    [
        pytest.param(
            "SELECT n FROM numbers WHERE n % 7 <> 0 ORDER BY n DESC",
            SMALL_FILES,
            [n for n in range(299_999, -1, -1) if n % 7 != 0],
            id="order-by",
        ),
        pytest.param(
            "WITH odd AS (SELECT n FROM numbers WHERE n % 2 = 1) "
            "SELECT n FROM odd UNION ALL SELECT n FROM numbers WHERE n < 10 ORDER BY ALL",
            SMALL_FILES,
            sorted([n for n in range(300_000) if n % 2 == 1] + list(range(10))),
            id="order-by-over-a-union",
        ),
        pytest.param(
            "SELECT n FROM numbers WHERE n % 7 <> 0",
            {**SMALL_FILES, "keep_order": True},
            [n for n in range(300_000) if n % 7 != 0],
            id="keep-order",
        ),
    ],
)
def test_an_ordered_result_keeps_its_order_in_one_file(
    tmp_path: Path, sql: str, config: dict[str, Any], expected: list[int]
) -> None:
    inputs = {"numbers": numbers_artifact(str(tmp_path), 300_000)}
    result, out = transform(str(tmp_path), tmp_path / "outputs", inputs, sql, **config)
    assert result.returncode == 0, result.stderr
    assert len(ArtifactReader(open_location(out), "daily").paths()) == 1
    assert written_values(out) == expected


def test_wide_integers_and_uuids_keep_their_values(
    tmp_path: Path, two_inputs: dict[str, str]
) -> None:
    sql = (
        "SELECT sum(order_id) AS total, "
        "12345678901234567890123456789012345678::HUGEINT AS wide, "
        "'0f8fad5b-d9cb-469f-a165-70867728950e'::UUID AS id, "
        "[sum(customer_id)::HUGEINT] AS totals, "
        "{'id': '0f8fad5b-d9cb-469f-a165-70867728950e'::UUID} AS nested "
        "FROM orders"
    )
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "daily")
    table = reader.dataset().to_table()
    wide = pa.decimal128(38, 0)
    assert [(f.name, f.type) for f in table.schema] == [
        ("total", wide),
        ("wide", wide),
        ("id", pa.string()),
        ("totals", pa.list_(pa.field("element", wide))),
        ("nested", pa.struct([("id", pa.string())])),
    ]
    assert table.to_pylist() == [
        {
            "total": Decimal(10),
            "wide": Decimal("12345678901234567890123456789012345678"),
            "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "totals": [Decimal(43)],
            "nested": {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        }
    ]
    manifest = json.loads(Path(out, "_manifest.json").read_text())
    assert manifest["schema"].splitlines() == [
        "total: DECIMAL(38,0)",
        "wide: DECIMAL(38,0)",
        "id: VARCHAR",
        "totals: DECIMAL(38,0)[]",
        "nested: STRUCT(id VARCHAR)",
    ]


def test_nested_fields_named_like_types_and_intervals_are_written_portably(
    tmp_path: Path, two_inputs: dict[str, str]
) -> None:
    sql = (
        "SELECT {'uuid': 7::HUGEINT, 'HUGEINT': '0f8fad5b-d9cb-469f-a165-70867728950e'::UUID, "
        "'plain': 1} AS s, "
        "MAP([1::HUGEINT], ['0f8fad5b-d9cb-469f-a165-70867728950e'::UUID]) AS m, "
        "[2::UHUGEINT, 3]::UHUGEINT[2] AS a, "
        "{'n': 5} AS untouched, "
        "INTERVAL '1 day 2 hours' AS gap "
        "FROM orders LIMIT 1"
    )
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == 0, result.stderr
    table = ArtifactReader(open_location(out), "daily").dataset().to_table()
    wide = pa.decimal128(38, 0)
    assert table.schema.field("s").type == pa.struct(
        [("uuid", wide), ("HUGEINT", pa.string()), ("plain", pa.int32())]
    )
    assert table.to_pylist()[0]["s"] == {
        "uuid": Decimal(7),
        "HUGEINT": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "plain": 1,
    }
    assert table.to_pylist()[0]["m"] == [(Decimal(1), "0f8fad5b-d9cb-469f-a165-70867728950e")]
    assert table.to_pylist()[0]["a"] == [Decimal(2), Decimal(3)]
    assert table.to_pylist()[0]["gap"] == "1 day 02:00:00"
    manifest = json.loads(Path(out, "_manifest.json").read_text())
    assert manifest["schema"].splitlines() == [
        "s: STRUCT(uuid DECIMAL(38,0), HUGEINT VARCHAR, plain INTEGER)",
        "m: MAP(DECIMAL(38,0), VARCHAR)",
        "a: DECIMAL(38,0)[2]",
        "untouched: STRUCT(n INTEGER)",
        "gap: VARCHAR",
    ]


def test_staging_left_by_a_killed_attempt_is_removed(
    tmp_path: Path, two_inputs: dict[str, str]
) -> None:
    out = Path(tmp_path, "artifacts", "r1", "daily")
    leftover = out / "data" / ".staging-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / "data_0.parquet").write_bytes(b"half a file")
    result, _ = transform(str(tmp_path), tmp_path / "outputs", two_inputs, JOIN_SQL)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(str(out)), "daily")
    assert data_files(str(out)) == [Path(p).name for p in reader.paths()]
    assert reader.rows == 2


def test_a_local_transform_never_imports_pyarrow(
    tmp_path: Path, two_inputs: dict[str, str]
) -> None:
    result = run_step(
        "transform",
        *("--pipeline", "p", "--step", "daily", "--run-id", "r1", "--store", str(tmp_path)),
        *("--input", f"orders={two_inputs['orders']}"),
        *("--output", f"{tmp_path}/artifacts/r1/daily"),
        *("--config", json.dumps({"sql": "SELECT count(*) AS n FROM orders"})),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert result.returncode == 0, result.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "duckdb" in imported
    assert not [name for name in imported if name.startswith("pyarrow")]


def test_duplicate_column_names_are_refused(tmp_path: Path, two_inputs: dict[str, str]) -> None:
    sql = (
        "SELECT o.customer_id, c.customer_id "
        "FROM orders o JOIN customers_clean c USING (customer_id)"
    )
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == 2
    assert last_line(result.stderr) == (
        "ferry: pipeline 'p', step 'daily': the SQL returns two columns named 'customer_id'; "
        "give each a distinct alias (... AS name); fix the SQL"
    )
    assert not Path(out, "_manifest.json").exists()


TABLES = '"orders", "customers-clean" (alias customers_clean)'


@pytest.mark.parametrize(
    ("sql", "code", "message"),
    [
        pytest.param(
            "SELEC 1",
            2,
            f'the SQL is invalid: Parser Error: syntax error at or near "SELEC"; tables: {TABLES}; '
            "fix the SQL",
            id="syntax",
        ),
        pytest.param(
            "SELECT total FROM orders",
            2,
            'the SQL is invalid: Binder Error: Referenced column "total" not found in FROM '
            'clause! Candidate bindings: "customer_id"; '
            f"tables: {TABLES}; fix the SQL",
            id="unknown-column",
        ),
        pytest.param(
            "SELECT * FROM customers",
            2,
            "the SQL is invalid: Catalog Error: Table with name customers does not exist! "
            f'Did you mean "customers-clean"?; tables: {TABLES}; fix the SQL',
            id="unknown-table",
        ),
        pytest.param(
            "CREATE TABLE x AS SELECT * FROM orders",
            2,
            "the SQL must end with a query (SELECT ...) whose rows are the output; its last "
            "statement is CREATE; fix the SQL",
            id="not-a-query",
        ),
        pytest.param(
            "SELECT CAST(name AS INTEGER) FROM customers_clean",
            3,
            "the SQL failed on the data: Conversion Error: Could not convert string 'Ada' to "
            "INT32 when casting from source column name; fix the SQL or the data",
            id="runtime",
        ),
        pytest.param(
            "SELECT customer_id // (customer_id - customer_id) AS q FROM customers_clean",
            3,
            "the SQL failed on the data: Invalid Input Error: Division by zero in expression "
            "(customer_id // (customer_id - customer_id)). Use TRY(...) to return NULL for this "
            "expression, or SET error_on_division_by_zero=false to return NULL for all divisions "
            "by zero.; fix the SQL or the data",
            id="division-by-zero",
        ),
        pytest.param(
            "SELECT 2147483647::INTEGER + customer_id::INTEGER FROM customers_clean",
            3,
            "the SQL failed on the data: Out of Range Error: Overflow in addition of INT32 "
            "(2147483647 + 10)!; fix the SQL or the data",
            id="overflow",
        ),
    ],
)
def test_sql_errors_name_the_problem(
    tmp_path: Path, two_inputs: dict[str, str], sql: str, code: int, message: str
) -> None:
    result, out = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql)
    assert result.returncode == code
    assert last_line(result.stderr) == f"ferry: pipeline 'p', step 'daily': {message}"
    assert not Path(out, "_manifest.json").exists()
    assert not list(Path(out).rglob(".staging-*"))


def test_bad_memory_limit_is_a_usage_error(tmp_path: Path, two_inputs: dict[str, str]) -> None:
    sql = "SELECT 1 AS one"
    result, _ = transform(str(tmp_path), tmp_path / "outputs", two_inputs, sql, memory_limit="lots")
    assert result.returncode == 2
    assert last_line(result.stderr).startswith(
        "ferry: pipeline 'p', step 'daily': DuckDB rejects the settings: "
    )
    assert last_line(result.stderr).endswith("; fix memory_limit, threads or temp_directory")


def test_reads_and_writes_s3_artifacts(s3_bucket: str, tmp_path: Path) -> None:
    store = f"{s3_bucket}/ferry"
    inputs = {
        "orders": make_artifact(store, "orders", ORDERS),
        "customers-clean": make_artifact(store, "customers-clean", CUSTOMERS),
    }
    spill = tmp_path / "spill"
    spill.mkdir()
    result, out = transform(
        store, tmp_path / "outputs", inputs, JOIN_SQL, threads=1, temp_directory=str(spill)
    )
    assert result.returncode == 0, result.stderr
    assert out.startswith("s3://")
    reader = ArtifactReader(open_location(out), "daily")
    assert reader.dataset().to_table().to_pylist() == [
        {"name": "Ada", "total": 7.5},
        {"name": "Bo", "total": 7.5},
    ]
    assert (tmp_path / "outputs" / "rows_out").read_text() == "2"
    assert list(spill.iterdir()) == []
