"""CSV files as record batches, with malformed rows and unreadable values set aside.

Every column is parsed as raw bytes by pyarrow's streaming CSV reader and then cast
to the target type in one vectorised step per column (see ``casting``, which checks
UTF-8 on the way): this is as fast as typed parsing, and a bad value (invalid UTF-8
included) costs one row instead of the whole file. Rows with the wrong number of
fields come from pyarrow's ``invalid_row_handler``. A header that names a column
twice rejects the file, since its columns could not be told apart.

Line numbers are CSV records counted from 1 with the header as record 1; blank lines
are skipped and not counted, and a quoted value spanning lines counts once.
"""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from steps.extract.files.config import FilesExtract
from steps.extract.files.quarantine import BadRow
from steps.extract.files.schema import TargetSchema
from steps.runtime.errors import DataRejected
from steps.runtime.store import Location

_BLOCK_SIZE = 1 << 20


def _options(
    config: FilesExtract, names: list[str] | None, handler: object
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    opts = config.csv
    read = pacsv.ReadOptions(
        use_threads=False,
        block_size=_BLOCK_SIZE,
        column_names=names if not opts.header else None,
        autogenerate_column_names=not opts.header and names is None,
    )
    parse = pacsv.ParseOptions(
        delimiter=opts.delimiter,
        quote_char=opts.quote_char,
        newlines_in_values=True,
        invalid_row_handler=handler,
    )
    convert = pacsv.ConvertOptions(
        null_values=opts.null_values,
        strings_can_be_null=True,
        column_types={n: pa.binary() for n in names} if names else None,
        check_utf8=False,
    )
    return read, parse, convert


def _open(
    loc: Location, config: FilesExtract, names: list[str] | None, handler: object
) -> pacsv.CSVStreamingReader:
    read, parse, convert = _options(config, names, handler)
    try:
        return pacsv.open_csv(
            loc.fs.open_input_stream(loc.path),
            read_options=read,
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as err:
        raise DataRejected(
            f"{loc.uri}: cannot read as CSV: {err}; check format and csv options"
        ) from None


def _probe(loc: Location, config: FilesExtract) -> pa.Schema:
    """The file's columns and types inferred from its first block."""
    declared = config.declared_columns()
    if not config.csv.header and declared is not None:
        return pa.schema([(n, pa.string()) for n in declared])
    reader = _open(loc, config, None, lambda _row: "skip")
    schema = reader.schema
    reader.close()
    _check_unique(loc, list(schema.names))
    return schema


def _check_unique(loc: Location, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for field, name in enumerate(names, start=1):
        if name in seen:
            raise DataRejected(
                f"{loc.uri} line 1: column {name!r} appears twice in the header (fields "
                f"{seen[name]} and {field}); rename or remove one of them"
            )
        seen[name] = field


def read_csv(
    loc: Location, config: FilesExtract, target: TargetSchema
) -> Iterator[tuple[pa.RecordBatch | None, list[BadRow]]]:
    """Stream one CSV file as (good rows in the target schema, bad rows) per batch."""
    file_schema = _probe(loc, config)
    target.adopt(loc.uri, file_schema)
    names = list(file_schema.names)
    target.check_columns(loc.uri, names)
    skipped_numbers: list[int] = []
    pending: list[BadRow] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        number = row.number or 0
        skipped_numbers.append(number)
        pending.append(
            BadRow(
                loc.uri,
                number,
                f"expected {row.expected_columns} fields, got {row.actual_columns}",
                row.text,
            )
        )
        return "skip"

    reader = _open(loc, config, names, on_invalid_row)
    first_record = 2 if config.csv.header else 1
    accepted = 0
    for batch in _batches(loc, reader):
        good, failures = target.cast(loc.uri, batch.select(target.names))
        bad = pending.copy()
        pending.clear()
        for failure in failures:
            line = _record_number(first_record + accepted + failure.index, skipped_numbers)
            fields = [batch.column(n)[failure.index].as_py() for n in names]
            raw = config.csv.delimiter.join(_text(v) for v in fields)
            bad.append(BadRow(loc.uri, line, failure.problem, raw))
        accepted += batch.num_rows
        yield good, sorted(bad, key=lambda r: r.line)
    if pending:
        yield None, pending.copy()


def _batches(loc: Location, reader: pacsv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    except pa.ArrowInvalid as err:
        raise DataRejected(f"{loc.uri}: cannot read as CSV: {err}; fix the file") from None


def _text(value: bytes | None) -> str:
    """A raw field as quarantine text; bytes that are not UTF-8 become backslash escapes."""
    return "" if value is None else value.decode("utf-8", "backslashreplace")


def _record_number(position: int, skipped_numbers: list[int]) -> int:
    """The record number of the accepted row at ``position`` (as if none were skipped).

    Each skipped (malformed) record at or before it pushes it one further.
    """
    number = position
    for skipped in skipped_numbers:
        if skipped > number:
            break
        number += 1
    return number
