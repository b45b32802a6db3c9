"""``extract-files`` end to end: real files (local and S3), the step as a subprocess."""

import datetime as dt
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.store import open_location
from tests.conftest import run_step


def extract(
    tmp_path: Path, config: dict[str, Any]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    output = tmp_path / "store" / "artifacts" / "r1" / "orders"
    result = run_step(
        "extract-files",
        *("--pipeline", "demo", "--step", "orders", "--run-id", "r1"),
        *("--store", str(tmp_path / "store"), "--output", str(output)),
        *("--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
    )
    return result, output


def ok(tmp_path: Path, config: dict[str, Any]) -> ArtifactReader:
    result, output = extract(tmp_path, config)
    assert result.returncode == 0, result.stderr
    return ArtifactReader(open_location(str(output)), "orders")


def rows(reader: ArtifactReader, part: str = "data") -> list[dict[str, Any]]:
    return [row for batch in reader.batches(part=part) for row in batch.to_pylist()]


def failure(tmp_path: Path, config: dict[str, Any], exit_code: int = 1) -> str:
    result, output = extract(tmp_path, config)
    assert result.returncode == exit_code, result.stderr
    assert not (output / "_manifest.json").exists()
    return result.stderr.strip().splitlines()[-1]


def outputs(tmp_path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}


WHERE = "ferry: pipeline 'demo', step 'orders': "


def test_csv_with_inferred_schema_and_output_parameters(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("id,status,amount\n1,new,9.5\n2,paid,\n")

    reader = ok(tmp_path, {"path": str(tmp_path / "orders.csv"), "format": "csv"})

    assert reader.schema == pa.schema(
        [("id", pa.int64()), ("status", pa.string()), ("amount", pa.float64())]
    )
    assert rows(reader) == [
        {"id": 1, "status": "new", "amount": 9.5},
        {"id": 2, "status": "paid", "amount": None},
    ]
    assert outputs(tmp_path) == {
        "rows_in": "2",
        "rows_out": "2",
        "rows_rejected": "0",
        "quality_score": "1.000000",
        "input_rows": "{}",
        "warning": "",
        "cached": "",
    }


def test_relative_glob_of_several_files_reads_in_sorted_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in" / "2024").mkdir(parents=True)
    (tmp_path / "in" / "b.csv").write_text("id\n2\n")
    (tmp_path / "in" / "a.csv").write_text("id\n1\n")
    (tmp_path / "in" / "2024" / "c.csv").write_text("id\n3\n")
    (tmp_path / "in" / "_skipped.csv").write_text("id\n99\n")
    monkeypatch.chdir(tmp_path)

    result, output = extract(tmp_path, {"path": "in/**/*.csv", "format": "csv"})

    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(str(output)), "orders")
    assert [r["id"] for r in rows(reader)] == [3, 1, 2]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["file"], e["rows"]) for e in events if e["event"] == "file_read"] == [
        (str(tmp_path / "in" / "2024" / "c.csv"), 1),
        (str(tmp_path / "in" / "a.csv"), 1),
        (str(tmp_path / "in" / "b.csv"), 1),
    ]


def test_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 1, "tags": ["x"]}\n\n{"id": 2}\n')

    reader = ok(tmp_path, {"path": str(tmp_path / "a.jsonl"), "format": "jsonl"})

    assert rows(reader) == [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": None}]


def test_parquet_glob(tmp_path: Path) -> None:
    for n in (1, 2):
        pq.write_table(pa.table({"id": [n], "v": [f"v{n}"]}), tmp_path / f"p{n}.parquet")

    reader = ok(tmp_path, {"path": str(tmp_path / "*.parquet"), "format": "parquet"})

    assert rows(reader) == [{"id": 1, "v": "v1"}, {"id": 2, "v": "v2"}]


def test_s3_glob(tmp_path: Path, s3_bucket: str, s3_env: dict[str, str]) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    bucket = s3_bucket.removeprefix("s3://")
    s3.put_object(Bucket=bucket, Key="in/2024-01-02.csv", Body=b"id\n2\n")
    s3.put_object(Bucket=bucket, Key="in/2024-01-01.csv", Body=b"id\n1\n")
    s3.put_object(Bucket=bucket, Key="in/notes.txt", Body=b"not csv")

    reader = ok(tmp_path, {"path": f"{s3_bucket}/in/*.csv", "format": "csv"})

    assert [r["id"] for r in rows(reader)] == [1, 2]


def test_declared_schema_casts_every_type(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "s,i32,i64,f,b,d,ts,tsz,dec\n"
        "x,1,10000000000,1.5,true,2024-01-02,2024-01-02 03:04:05,2024-01-02T03:04:05Z,12.34\n"
    )
    columns = {
        "s": "string",
        "i32": "int32",
        "i64": "int64",
        "f": "float64",
        "b": "bool",
        "d": "date",
        "ts": "timestamp",
        "tsz": "timestamp[tz=UTC]",
        "dec": "decimal(10,2)",
    }

    reader = ok(tmp_path, {"path": str(tmp_path / "t.csv"), "format": "csv", "columns": columns})

    assert reader.schema == pa.schema(
        [
            ("s", pa.string()),
            ("i32", pa.int32()),
            ("i64", pa.int64()),
            ("f", pa.float64()),
            ("b", pa.bool_()),
            ("d", pa.date32()),
            ("ts", pa.timestamp("us")),
            ("tsz", pa.timestamp("us", "UTC")),
            ("dec", pa.decimal128(10, 2)),
        ]
    )
    assert rows(reader) == [
        {
            "s": "x",
            "i32": 1,
            "i64": 10_000_000_000,
            "f": 1.5,
            "b": True,
            "d": dt.date(2024, 1, 2),
            "ts": dt.datetime(2024, 1, 2, 3, 4, 5),
            "tsz": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "dec": Decimal("12.34"),
        }
    ]


def test_declared_order_wins_over_file_order(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("b,a\n2,1\n")

    reader = ok(
        tmp_path,
        {"path": str(tmp_path / "t.csv"), "format": "csv", "columns": {"a": "int64", "b": "int64"}},
    )

    assert rows(reader) == [{"a": 1, "b": 2}]


def test_null_markers_and_delimiter(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id;name\n1;NA\n2;\n3;x\n")
    config = {
        "path": str(tmp_path / "t.csv"),
        "format": "csv",
        "columns": {"id": "int64", "name": "string"},
        "csv": {"delimiter": ";", "null_values": ["NA"]},
    }

    assert rows(ok(tmp_path, config)) == [
        {"id": 1, "name": None},
        {"id": 2, "name": ""},
        {"id": 3, "name": "x"},
    ]


def test_headerless_csv_with_declared_columns(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("1,a\n2,b\n")
    config = {
        "path": str(tmp_path / "t.csv"),
        "format": "csv",
        "columns": {"id": "int32", "name": "string"},
        "csv": {"header": False},
    }

    assert rows(ok(tmp_path, config)) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_empty_csv_keeps_the_declared_schema(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id\n")

    reader = ok(
        tmp_path, {"path": str(tmp_path / "t.csv"), "format": "csv", "columns": {"id": "int64"}}
    )

    assert reader.schema == pa.schema([("id", pa.int64())])
    assert reader.rows == 0


BAD_CSV = "id,amount\n1,1.5\n2,1.5,x\n3,oops\n\n4,2\n"


def test_malformed_csv_row_fails_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(BAD_CSV)

    message = failure(tmp_path, {"path": str(tmp_path / "t.csv"), "format": "csv"}, exit_code=3)

    assert message == (
        f"{WHERE}{tmp_path / 't.csv'} line 3: expected 2 fields, got 3; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_uncastable_value_fails_with_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,amount\n1,1.5\n2,\n3,oops\n")
    config = {
        "path": str(tmp_path / "t.csv"),
        "format": "csv",
        "columns": {"id": "int64", "amount": "float64"},
    }

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{tmp_path / 't.csv'} line 4: column 'amount': 'oops' is not a valid float64; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_quarantine_keeps_bad_rows_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(BAD_CSV)
    config = {
        "path": str(path),
        "format": "csv",
        "columns": {"id": "int64", "amount": "float64"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 1, "amount": 1.5}, {"id": 4, "amount": 2.0}]
    assert rows(reader, "quarantine") == [
        {
            "_ferry_reason": f"{path} line 3: expected 2 fields, got 3",
            "_ferry_source_file": str(path),
            "_ferry_line": 3,
            "_ferry_raw": "2,1.5,x",
        },
        {
            "_ferry_reason": f"{path} line 4: column 'amount': 'oops' is not a valid float64",
            "_ferry_source_file": str(path),
            "_ferry_line": 4,
            "_ferry_raw": "3,oops",
        },
    ]
    assert outputs(tmp_path) == {
        "rows_in": "4",
        "rows_out": "2",
        "rows_rejected": "2",
        "quality_score": "0.500000",
        "input_rows": "{}",
        "warning": "",
        "cached": "",
    }


def test_jsonl_quarantine_of_broken_lines_and_values(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1}\n{"id": 2,\n{"id": "x"}\n[3]\n{"id": 4}\n')
    config = {
        "path": str(path),
        "format": "jsonl",
        "columns": {"id": "int64"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 1}, {"id": 4}]
    assert [(r["_ferry_line"], r["_ferry_reason"]) for r in rows(reader, "quarantine")] == [
        (
            2,
            f"{path} line 2: invalid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 10 (char 9)",
        ),
        (4, f"{path} line 4: not a JSON object"),
        (3, f"{path} line 3: column 'id': 'x' is not a valid int64"),
    ]


def test_parquet_value_that_does_not_fit_the_declared_type(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": [1, 2**40]}), tmp_path / "p.parquet")
    config = {"path": str(tmp_path / "p.parquet"), "format": "parquet", "columns": {"id": "int32"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{tmp_path / 'p.parquet'} row 2: column 'id': 1099511627776 is not a valid "
        "int32; fix the file or set on_bad_row to 'quarantine'"
    )


def test_file_that_is_not_parquet_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "t.parquet").write_bytes(b"PAR1 not really")
    message = failure(
        tmp_path, {"path": str(tmp_path / "t.parquet"), "format": "parquet"}, exit_code=3
    )
    assert message.startswith(f"{WHERE}{tmp_path}/t.parquet: cannot read as Parquet: ")
    assert message.endswith("; check the format")


def test_empty_csv_without_declared_columns_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("")
    assert failure(tmp_path, {"path": str(tmp_path / "t.csv"), "format": "csv"}, exit_code=3) == (
        f"{WHERE}{tmp_path}/t.csv: cannot read as CSV: Empty CSV file; check format and csv options"
    )


def test_missing_file(tmp_path: Path) -> None:
    assert failure(tmp_path, {"path": str(tmp_path / "nope.csv"), "format": "csv"}) == (
        f"{WHERE}file not found: {tmp_path / 'nope.csv'}; check the path"
    )


def test_glob_matching_nothing(tmp_path: Path) -> None:
    assert failure(tmp_path, {"path": str(tmp_path / "*.csv"), "format": "csv"}) == (
        f"{WHERE}no files match {tmp_path / '*.csv'}; check the path and the glob pattern"
    )


def test_schema_mismatch_between_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,x\n")
    (tmp_path / "b.csv").write_text("id,title\n2,y\n")

    assert failure(tmp_path, {"path": str(tmp_path / "*.csv"), "format": "csv"}, exit_code=3) == (
        f"{WHERE}{tmp_path / 'b.csv'} does not match the schema inferred from "
        f"{tmp_path / 'a.csv'} (the first file): column 'name' is missing; make the files "
        "agree or declare columns in the config"
    )


def test_undeclared_extra_column(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name,secret\n1,x,s\n")
    config = {
        "path": str(tmp_path / "a.csv"),
        "format": "csv",
        "columns": {"id": "int64", "name": "string"},
    }

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{tmp_path / 'a.csv'}: undeclared columns 'secret'; add them to columns in "
        "the config or remove them from the file"
    )


def test_missing_declared_column(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n")
    config = {
        "path": str(tmp_path / "a.csv"),
        "format": "csv",
        "columns": {"id": "int64", "name": "string"},
    }

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{tmp_path / 'a.csv'}: declared column 'name' is missing (the file has "
        "'id'); fix the file or the columns in the config"
    )


def test_bad_type_name_is_a_config_error(tmp_path: Path) -> None:
    config = {"path": "x.csv", "format": "csv", "columns": {"id": "integer"}}

    assert failure(tmp_path, config, exit_code=2) == (
        f"{WHERE}invalid extract-files config at columns: Value error, column 'id': unknown "
        "type 'integer'; use one of: string, int32, int64, float32, float64, bool, date, "
        "timestamp, timestamp[tz=UTC] (or another IANA zone), decimal(precision,scale)"
    )


def quarantined(reader: ArtifactReader) -> list[tuple[int, str, str]]:
    return [
        (r["_ferry_line"], r["_ferry_reason"], r["_ferry_raw"]) for r in rows(reader, "quarantine")
    ]


def test_jsonl_line_that_is_not_utf8_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id":1,"s":"a"}\n{"id":2,"s":"caf\xe9"}\n')
    config = {"path": str(path), "format": "jsonl", "on_bad_row": "quarantine"}

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 1, "s": "a"}]
    assert quarantined(reader) == [
        (2, f"{path} line 2: invalid UTF-8 at byte 17 of the line", '{"id":2,"s":"caf\\xe9"}')
    ]
    assert outputs(tmp_path)["rows_in"] == "2"
    assert outputs(tmp_path)["rows_rejected"] == "1"


def test_jsonl_line_that_is_not_utf8_fails_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id":1,"s":"a"}\n{"id":2,"s":"caf\xe9"}\n')

    assert failure(tmp_path, {"path": str(path), "format": "jsonl"}, exit_code=3) == (
        f"{WHERE}{path} line 2: invalid UTF-8 at byte 17 of the line; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_csv_value_that_is_not_utf8_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,s\n1,a\n2,caf\xe9\nx,b\n")
    config = {
        "path": str(path),
        "format": "csv",
        "columns": {"id": "int64", "s": "string"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 1, "s": "a"}]
    assert quarantined(reader) == [
        (
            3,
            f"{path} line 3: column 's': b'caf\\xe9' is not valid UTF-8 (byte 4 of the value)",
            "2,caf\\xe9",
        ),
        (4, f"{path} line 4: column 'id': 'x' is not a valid int64", "x,b"),
    ]
    assert outputs(tmp_path)["rows_in"] == "3"


def test_csv_value_that_is_not_utf8_fails_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,s\n1,a\n2,caf\xe9\n")

    assert failure(tmp_path, {"path": str(path), "format": "csv"}, exit_code=3) == (
        f"{WHERE}{path} line 3: column 's': b'caf\\xe9' is not valid UTF-8 (byte 4 of the "
        "value); fix the file or set on_bad_row to 'quarantine'"
    )


def test_jsonl_line_with_two_objects_is_a_bad_row_and_lines_stay_right(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":1} {"id":2}\n\n{"id":3}\n{"id":99999999999}\n')
    config = {
        "path": str(path),
        "format": "jsonl",
        "columns": {"id": "int32"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 3}]
    assert quarantined(reader) == [
        (
            1,
            f"{path} line 1: extra text after the JSON object at column 10",
            '{"id":1} {"id":2}',
        ),
        (4, f"{path} line 4: column 'id': 99999999999 is not a valid int32", '{"id":99999999999}'),
    ]
    assert outputs(tmp_path) == {
        "rows_in": "3",
        "rows_out": "1",
        "rows_rejected": "2",
        "quality_score": "0.333333",
        "input_rows": "{}",
        "warning": "",
        "cached": "",
    }


def test_jsonl_blank_lines_keep_line_numbers_on_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":1}\n\n  \n{"id":99999999999}\n{"id":2}\n')
    config = {"path": str(path), "format": "jsonl", "columns": {"id": "int32"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path} line 4: column 'id': 99999999999 is not a valid int32; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_jsonl_object_in_a_declared_string_column_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":1,"n":"a"}\n{"id":2,"n":{"x":1}}\n{"id":3}\n')
    config = {
        "path": str(path),
        "format": "jsonl",
        "columns": {"id": "int64", "n": "string"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 1, "n": "a"}, {"id": 3, "n": None}]
    assert quarantined(reader) == [
        (2, f"{path} line 2: column 'n': {{'x': 1}} is not a valid string", '{"id":2,"n":{"x":1}}')
    ]


def test_jsonl_type_clash_with_inferred_schema_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":1,"n":"a"}\n{"id":2,"n":{"x":1}}\n')

    assert failure(tmp_path, {"path": str(path), "format": "jsonl"}, exit_code=3) == (
        f"{WHERE}{path} line 2: column 'n': {{'x': 1}} is not a valid string; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_csv_header_naming_a_column_twice_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,v,id\n1,2,3\n")
    config = {"path": str(path), "format": "csv", "on_bad_row": "quarantine"}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path} line 1: column 'id' appears twice in the header (fields 1 and 3); "
        "rename or remove one of them"
    )


def test_jsonl_object_across_lines_and_two_on_one_line_do_not_cancel_out(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":1,\n"v":2}\n{"id":3} {"id":4}\n{"id":5}\n')
    config = {"path": str(path), "format": "jsonl", "on_bad_row": "quarantine"}

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"id": 5}]
    assert [line for line, _, _ in quarantined(reader)] == [1, 2, 3]
    assert quarantined(reader)[2] == (
        3,
        f"{path} line 3: extra text after the JSON object at column 10",
        '{"id":3} {"id":4}',
    )
    assert outputs(tmp_path)["rows_in"] == "4"


def test_jsonl_values_of_the_wrong_kind_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id":1,"b":false,"ts":"2024-01-01T00:00:00Z"}\n'
        '{"id":true,"b":true,"ts":"2024-01-01T00:00:00Z"}\n'
        '{"id":3,"b":1,"ts":"2024-01-01T00:00:00Z"}\n'
        '{"id":4,"b":true,"ts":"2024-01-01T00:00:00"}\n'
        '{"id":5,"b":true,"ts":5}\n'
        '{"id":6,"b":true,"ts":"2024-01-01T01:00:00+01:00"}\n'
    )
    config = {
        "path": str(path),
        "format": "jsonl",
        "columns": {"id": "int64", "b": "bool", "ts": "timestamp[tz=UTC]"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    midnight = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert rows(reader) == [
        {"id": 1, "b": False, "ts": midnight},
        {"id": 6, "b": True, "ts": midnight},
    ]
    assert [(line, reason) for line, reason, _ in quarantined(reader)] == [
        (2, f"{path} line 2: column 'id': True is not a valid int64"),
        (3, f"{path} line 3: column 'b': 1 is not a valid bool"),
        (4, f"{path} line 4: column 'ts': '2024-01-01T00:00:00' is not a valid timestamp[tz=UTC]"),
        (5, f"{path} line 5: column 'ts': 5 is not a valid timestamp[tz=UTC]"),
    ]
    assert outputs(tmp_path)["rows_in"] == "6"
    assert outputs(tmp_path)["rows_rejected"] == "4"


def test_jsonl_text_columns_keep_their_text_exactly(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"note":"2024-01-01T00:00:00+01:00","zip":"01067"}\n'
        '{"note":"2024-01-01","zip":12345}\n'
        '{"note":"plain","zip":"80331"}\n'
    )
    config = {
        "path": str(path),
        "format": "jsonl",
        "columns": {"note": "string", "zip": "string"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [
        {"note": "2024-01-01T00:00:00+01:00", "zip": "01067"},
        {"note": "plain", "zip": "80331"},
    ]
    assert [(line, reason) for line, reason, _ in quarantined(reader)] == [
        (2, f"{path} line 2: column 'zip': 12345 is not a valid string"),
    ]


def test_jsonl_timestamp_without_offset_fails_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"ts":"2024-01-01T00:00:00Z"}\n{"ts":"2024-01-01T00:00:00"}\n')
    config = {"path": str(path), "format": "jsonl", "columns": {"ts": "timestamp[tz=UTC]"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path} line 2: column 'ts': '2024-01-01T00:00:00' is not a valid "
        "timestamp[tz=UTC]; fix the file or set on_bad_row to 'quarantine'"
    )


def test_jsonl_bool_in_a_number_column_fails_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":1}\n{"id":true}\n')
    config = {"path": str(path), "format": "jsonl", "columns": {"id": "int64"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path} line 2: column 'id': True is not a valid int64; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_jsonl_number_in_a_bool_column_fails_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"b":true}\n{"b":1}\n')
    config = {"path": str(path), "format": "jsonl", "columns": {"b": "bool"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path} line 2: column 'b': 1 is not a valid bool; "
        "fix the file or set on_bad_row to 'quarantine'"
    )


def test_jsonl_date_with_a_time_is_a_bad_row_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"d":"2024-01-02"}\n{"d":"2024-01-02T10:00:00"}\n')
    config = {
        "path": str(path),
        "format": "jsonl",
        "columns": {"d": "date"},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"d": dt.date(2024, 1, 2)}]
    assert [reason for _, reason, _ in quarantined(reader)] == [
        f"{path} line 2: column 'd': '2024-01-02T10:00:00' is not a valid date"
    ]


def test_parquet_naive_timestamp_for_a_zoned_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"ts": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us"))}), path)
    config = {"path": str(path), "format": "parquet", "columns": {"ts": "timestamp[tz=UTC]"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path}: column 'ts' is timestamp, which cannot be read as timestamp[tz=UTC]; "
        "declare the column's real type and convert it in a transform"
    )


def test_parquet_int_column_for_a_bool_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"b": [0, 2]}), path)
    config = {
        "path": str(path),
        "format": "parquet",
        "columns": {"b": "bool"},
        "on_bad_row": "quarantine",
    }

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path}: column 'b' is int64, which cannot be read as bool; "
        "declare the column's real type and convert it in a transform"
    )


def test_parquet_bool_column_for_a_number_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"n": [True, False]}), path)
    config = {"path": str(path), "format": "parquet", "columns": {"n": "float64"}}

    assert failure(tmp_path, config, exit_code=3) == (
        f"{WHERE}{path}: column 'n' is bool, which cannot be read as float64; "
        "declare the column's real type and convert it in a transform"
    )


def test_integers_fill_a_narrow_decimal_and_only_too_large_ones_are_bad(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"amount":5}\n{"amount":12345678901}\n{"amount":7}\n')
    parquet = tmp_path / "p.parquet"
    pq.write_table(pa.table({"amount": pa.array([5, 12345678901, 7], pa.int64())}), parquet)
    columns = {"amount": "decimal(10,2)"}

    for source in (path, parquet):
        fmt = "jsonl" if source == path else "parquet"
        config = {
            "path": str(source),
            "format": fmt,
            "columns": columns,
            "on_bad_row": "quarantine",
        }
        reader = ok(tmp_path, config)
        assert rows(reader) == [{"amount": Decimal("5.00")}, {"amount": Decimal("7.00")}]
        assert [reason for _, reason, _ in quarantined(reader)] == [
            f"{source} {'line' if fmt == 'jsonl' else 'row'} 2: column 'amount': 12345678901 "
            "is not a valid decimal(10,2)"
        ]


def test_parquet_strict_types_that_do_fit_are_read(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table(
        {
            "ts": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("ms", "Europe/Paris")),
            "d": pa.array([dt.date(2024, 1, 2)], pa.date32()),
            "n": pa.array([3], pa.int32()),
        }
    )
    pq.write_table(table, path)
    columns = {"ts": "timestamp[tz=UTC]", "d": "timestamp", "n": "int64"}

    reader = ok(tmp_path, {"path": str(path), "format": "parquet", "columns": columns})

    assert rows(reader) == [
        {
            "ts": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            "d": dt.datetime(2024, 1, 2),
            "n": 3,
        }
    ]
