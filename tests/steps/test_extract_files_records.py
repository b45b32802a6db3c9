"""``extract-files`` on malformed CSV quoting, long records and type inference that must not
change values (CSV and JSON Lines): the step as a subprocess on real files."""

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.steps.test_extract_files import WHERE, failure, ok, rows


def quarantined(reader: Any) -> list[tuple[int, str, str]]:
    return [
        (r["_ferry_line"], r["_ferry_reason"], r["_ferry_raw"])
        for r in rows(reader, part="quarantine")
    ]


def counts(tmp_path: Path) -> tuple[int, int, int]:
    values = {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}
    return int(values["rows_in"]), int(values["rows_out"]), int(values["rows_rejected"])


NOT_CLOSED = "a quoted value is not closed before the end of the file"


@pytest.mark.parametrize(
    ("text", "good", "bad"),
    [
        # The file: five records, a quote opened in the second never closes.
        (
            'id,name\n1,"ok"\n2,"bad\n3,x\n4,y\n5,z\n',
            [(1, "ok"), (3, "x"), (4, "y"), (5, "z")],
            [(3, '2,"bad')],
        ),
        # The stray quote on the last record, after a value that rightly spans lines.
        (
            'id,name\n1,"two\nlines"\n2,b\n3,"open\n',
            [(1, "two\nlines"), (2, "b")],
            [(4, '3,"open')],
        ),
    ],
)
def test_unclosed_quote_is_one_malformed_record_and_the_rest_is_read(
    tmp_path: Path, text: str, good: list[tuple[int, str]], bad: list[tuple[int, str]]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)

    reader = ok(tmp_path, {"path": str(path), "format": "csv", "on_bad_row": "quarantine"})

    assert [(r["id"], r["name"]) for r in rows(reader)] == good
    assert quarantined(reader) == [
        (line, f"{path} line {line}: {NOT_CLOSED}", raw) for line, raw in bad
    ]
    assert counts(tmp_path) == (len(good) + len(bad), len(good), len(bad))


def test_unclosed_quote_fails_with_file_and_record(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,name\n1,ok\n\n2,"bad\n3,x\n')

    assert failure(tmp_path, {"path": str(path), "format": "csv"}, exit_code=3) == (
        f"{WHERE}{path} line 3: {NOT_CLOSED}; fix the file or set on_bad_row to 'quarantine'"
    )


def test_quoted_value_longer_than_max_field_bytes_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    long_value = "y" * 300
    path.write_text(
        f'id,note\n1,"short"\n2,"{long_value}"\n3,"stray\n4,x\n6,{"w" * 150}\n'
        f'7,"{"z" * 50}\nmore"\n'
    )
    config = {
        "path": str(path),
        "format": "csv",
        "csv": {"max_field_bytes": 100, "block_size": 1024},
        "on_bad_row": "quarantine",
    }

    reader = ok(tmp_path, config)

    too_long = (
        "a quoted value is not closed within csv.max_field_bytes (100 bytes) of its opening quote"
    )
    assert [(r["id"], r["note"]) for r in rows(reader)] == [
        (1, "short"),
        (4, "x"),
        (6, "w" * 150),
        (7, "z" * 50 + "\nmore"),
    ]
    # The stray quote would pair with the next one, 170 bytes on; reading resumes after
    # the line it opened on.
    assert quarantined(reader) == [
        (3, f"{path} line 3: {too_long}", f'2,"{long_value}"'),
        (4, f"{path} line 4: {too_long}", '3,"stray'),
    ]
    assert counts(tmp_path) == (6, 4, 2)


def test_result_does_not_depend_on_where_blocks_end(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    lines = [f'{n},"v{n}\nline two, with ""quotes"""' for n in range(300)]
    path.write_text("id,note\n" + "\n".join(lines) + "\n")

    for block_size in (64, 100, 1000, 1 << 20):
        config = {
            "path": str(path),
            "format": "csv",
            "csv": {"max_field_bytes": 40, "block_size": block_size},
        }
        data = rows(ok(tmp_path, config))
        assert [r["id"] for r in data] == list(range(300))
        assert data[7]["note"] == 'v7\nline two, with "quotes"'


def test_record_longer_than_block_size_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,a,b\n1,x,y\n2," + "x" * 3000 + "," + "y" * 3000 + "\n3,x,y\n")

    message = failure(
        tmp_path,
        {"path": str(path), "format": "csv", "csv": {"max_field_bytes": 100, "block_size": 4096}},
        exit_code=3,
    )

    assert message == (
        f"{WHERE}{path} line 3: a record is longer than csv.block_size (4096 bytes); raise "
        "csv.block_size (and csv.max_field_bytes for a long quoted value) or fix the file"
    )


def test_quoted_value_longer_than_the_block_names_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,a\n1,"' + "x" * 5000 + '"\n')

    message = failure(
        tmp_path,
        {"path": str(path), "format": "csv", "csv": {"max_field_bytes": 4000, "block_size": 4096}},
        exit_code=3,
    )

    assert "csv.max_field_bytes (4000 bytes)" in message
    assert "straddl" not in message


def test_quotes_inside_unquoted_values_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('h,x\n5"3,a\n6"1,b\n"ab"cd,e\n')

    reader = ok(
        tmp_path,
        {"path": str(path), "format": "csv", "csv": {"max_field_bytes": 4, "block_size": 64}},
    )

    assert rows(reader) == [{"h": '5"3', "x": "a"}, {"h": '6"1', "x": "b"}, {"h": "abcd", "x": "e"}]


def test_max_field_bytes_must_be_below_block_size(tmp_path: Path) -> None:
    message = failure(
        tmp_path,
        {
            "path": str(tmp_path / "t.csv"),
            "format": "csv",
            "csv": {"max_field_bytes": 10, "block_size": 10},
        },
        exit_code=2,
    )
    assert "max_field_bytes (10) must be less than block_size (10)" in message


def test_inferred_csv_keeps_codes_with_leading_zeros_and_long_numbers_as_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "zip,code,big,precise,n,f\n"
        "01234,007.5,12345678901234567890,0.1234567890123456789,10,1.25\n"
        "99501,1.5,1,2,-3,0.5\n"
    )

    reader = ok(tmp_path, {"path": str(path), "format": "csv"})

    assert reader.schema == pa.schema(
        [
            ("zip", pa.string()),
            ("code", pa.string()),
            ("big", pa.string()),
            ("precise", pa.string()),
            ("n", pa.int64()),
            ("f", pa.float64()),
        ]
    )
    assert rows(reader)[0] == {
        "zip": "01234",
        "code": "007.5",
        "big": "12345678901234567890",
        "precise": "0.1234567890123456789",
        "n": 10,
        "f": 1.25,
    }


def test_leading_zeros_after_the_sample_are_bad_rows_not_changed(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,amount\n1,1.5\n2,0.25\n")
    (tmp_path / "b.csv").write_text("id,amount\n0042,2.5\n4,00.5\n5,3.14159265358979323\n6,7\n")
    config = {"path": str(tmp_path / "*.csv"), "format": "csv", "on_bad_row": "quarantine"}

    reader = ok(tmp_path, config)

    assert rows(reader) == [
        {"id": 1, "amount": 1.5},
        {"id": 2, "amount": 0.25},
        {"id": 6, "amount": 7.0},
    ]
    b = tmp_path / "b.csv"
    sample = "(the type inferred from the first file's sample)"
    zeros = "; declare the column as string"
    assert [(line, reason) for line, reason, _ in quarantined(reader)] == [
        (
            2,
            f"{b} line 2: column 'id': '0042' has leading zeros, which int64 {sample} "
            f"would drop{zeros}",
        ),
        (
            3,
            f"{b} line 3: column 'amount': '00.5' has leading zeros, which float64 {sample} "
            f"would drop{zeros}",
        ),
        (
            4,
            f"{b} line 4: column 'amount': '3.14159265358979323' has more significant digits than "
            f"float64 {sample} keeps (15); declare the column as string or decimal(p,s)",
        ),
    ]

    failed = failure(tmp_path, {**config, "on_bad_row": "fail"}, exit_code=3)
    assert failed.startswith(f"{WHERE}{b} line 2: column 'id': '0042' has leading zeros")


def test_declared_number_columns_still_read_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id\n007\n")

    reader = ok(tmp_path, {"path": str(path), "format": "csv", "columns": {"id": "int64"}})

    assert rows(reader) == [{"id": 7}]


def test_jsonl_nested_keys_that_change_after_the_sample_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    first = [json.dumps({"id": n, "m": {"a": n}, "tags": [{"k": "x"}]}) for n in range(3)]
    later = [
        json.dumps({"id": 10, "m": {"b": 1}, "tags": []}),
        json.dumps({"id": 11, "m": {"a": 5}, "tags": [{"k": "y", "extra": True}]}),
        json.dumps({"id": 12, "m": {"a": 6, "c": None}, "tags": None}),
    ]
    # The later lines come in a second chunk (4 MiB later), after the schema is fixed.
    padding = "\n" * (4 << 20)
    path.write_text("\n".join(first) + padding + "\n".join(later) + "\n")
    config = {"path": str(path), "format": "jsonl", "on_bad_row": "quarantine"}

    reader = ok(tmp_path, config)

    assert rows(reader) == [
        *({"id": n, "m": {"a": n}, "tags": [{"k": "x"}]} for n in range(3)),
        {"id": 12, "m": {"a": 6}, "tags": None},
    ]
    base = 3 + (4 << 20)
    problems = [(line, reason) for line, reason, _ in quarantined(reader)]
    assert [line for line, _ in problems] == [base, base + 1]
    assert problems[0][1].startswith(f"{path} line {base}: column 'm': {{'b': 1, ")
    assert (
        "does not fit struct<a: int64> (the type inferred from the first lines)" in problems[0][1]
    )
    assert problems[1][1].startswith(f"{path} line {base + 1}: column 'tags': [{{'k': 'y', ")
    assert [raw for _, _, raw in quarantined(reader)] == later[:2]
    assert counts(tmp_path) == (6, 4, 2)


def test_jsonl_inferred_strings_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": 1, "at": "2024-01-01T00:00:00+01:00", "d": "2024-01-02 03:04:05"}\n'
        '{"id": 2, "at": "2024-06-01T00:00:00Z", "d": "x"}\n'
    )

    reader = ok(tmp_path, {"path": str(path), "format": "jsonl"})

    assert reader.schema == pa.schema([("id", pa.int64()), ("at", pa.string()), ("d", pa.string())])
    assert rows(reader) == [
        {"id": 1, "at": "2024-01-01T00:00:00+01:00", "d": "2024-01-02 03:04:05"},
        {"id": 2, "at": "2024-06-01T00:00:00Z", "d": "x"},
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_types_are_inferred_from_the_records_after_an_early_malformed_one(
    tmp_path: Path, newline: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(newline.join(["id,amount", '1,"oops', "2,3.5", "3,4", ""]).encode())

    reader = ok(tmp_path, {"path": str(path), "format": "csv", "on_bad_row": "quarantine"})

    assert reader.schema == pa.schema([("id", pa.int64()), ("amount", pa.float64())])
    assert rows(reader) == [{"id": 2, "amount": 3.5}, {"id": 3, "amount": 4.0}]
    assert quarantined(reader) == [(2, f"{path} line 2: {NOT_CLOSED}", '1,"oops')]


def test_unclosed_quote_in_the_header_rejects_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,"name\n1,a\n')

    assert (
        failure(
            tmp_path, {"path": str(path), "format": "csv", "on_bad_row": "quarantine"}, exit_code=3
        )
        == f"{WHERE}{path} line 1: the header is malformed: {NOT_CLOSED}"
    )


def test_record_longer_than_block_size_after_the_sample_names_its_record(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    good = "".join(f"{n},x\n" for n in range(2000))
    path.write_text("id,a\n" + good + "2000," + "y" * 5000 + "\n2001,x\n")

    message = failure(
        tmp_path,
        {"path": str(path), "format": "csv", "csv": {"max_field_bytes": 100, "block_size": 4096}},
        exit_code=3,
    )

    assert message.startswith(f"{WHERE}{path} line 2002: a record is longer than csv.block_size")


def test_jsonl_codes_and_numbers_keep_their_text(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"zip": "01234", "n": 1}\n{"zip": 1234, "n": 2}\n{"zip": "00042", "n": 01}\n')
    config = {"path": str(path), "format": "jsonl", "on_bad_row": "quarantine"}

    reader = ok(tmp_path, config)

    assert rows(reader) == [{"zip": "01234", "n": 1}]
    # A JSON number is not text (and JSON has no numbers with leading zeros).
    assert sorted((line, reason) for line, reason, _ in quarantined(reader)) == [
        (2, f"{path} line 2: column 'zip': 1234 is not a valid string"),
        (3, f"{path} line 3: invalid JSON: Expecting ',' delimiter: line 1 column 24 (char 23)"),
    ]
