"""CSV files as record batches, with malformed records and unreadable values set aside.

The file's bytes (decompressed as ``compression`` says) are split into chunks of
whole records by ``records``, which also sets aside records whose quoted value is
never closed (pyarrow would let it swallow the rest of the file). Each chunk is parsed
by pyarrow with every column as raw bytes and then cast to the target type in one
vectorised step per column (see ``casting``, which checks UTF-8 on the way): this is as
fast as typed parsing, and a bad value (invalid UTF-8 included) costs one row instead
of the whole file. Rows with the wrong number of fields come from pyarrow's
``invalid_row_handler``. A header that names a column twice rejects the file, since
its columns could not be told apart.

Without declared columns the first chunk is the sample pyarrow infers types from. A
number type is kept only if it keeps every sampled text: a column with leading zeros
(``01234``) or more digits than a float64 holds stays text, and a later value of that
kind in a column inferred as a number is a bad row, never a changed value.

Line numbers are CSV records counted from 1 with the header as record 1; blank lines
are skipped and not counted, and a quoted value spanning lines counts once.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from steps.extract.files.casting import inexact_number_text
from steps.extract.files.config import FilesExtract
from steps.extract.files.quarantine import BadRow
from steps.extract.files.records import Chunk, RecordTooLong, split_records
from steps.extract.files.schema import TargetSchema
from steps.extract.files.source import byte_pieces
from steps.runtime.errors import DataRejected
from steps.runtime.ordered_pool import ordered_map
from steps.runtime.store import Location


def _parse(
    loc: Location,
    config: FilesExtract,
    data: memoryview | bytes,
    names: list[str] | None,
    text_columns: list[str] | None,
    handler: object = None,
) -> pa.Table:
    """One chunk of whole records as a table.

    ``names``: the columns when ``data`` has no header; ``text_columns``: the columns to
    read as raw bytes (None: infer every type).
    """
    opts = config.csv
    read = pacsv.ReadOptions(
        use_threads=False,
        block_size=len(data) + 1,
        column_names=names,
        autogenerate_column_names=names is None and not opts.header,
    )
    parse = pacsv.ParseOptions(
        delimiter=opts.delimiter,
        quote_char=opts.quote_char,
        newlines_in_values=True,
        invalid_row_handler=handler or (lambda _row: "skip"),
    )
    convert = pacsv.ConvertOptions(
        null_values=opts.null_values,
        strings_can_be_null=True,
        column_types={n: pa.binary() for n in text_columns} if text_columns else None,
        check_utf8=False,
    )
    try:
        return pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=read,
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as err:
        raise DataRejected(
            f"{loc.uri}: cannot read as CSV: {err}; check format and csv options"
        ) from None


def _check_unique(loc: Location, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for field, name in enumerate(names, start=1):
        if name in seen:
            raise DataRejected(
                f"{loc.uri} line 1: column {name!r} appears twice in the header (fields "
                f"{seen[name]} and {field}); rename or remove one of them"
            )
        seen[name] = field


def _exact_types(inferred: pa.Schema, text: pa.Table) -> pa.Schema:
    """The inferred schema with number columns whose sample text a number would change as text."""
    fields = []
    for field in inferred:
        column = text.column(field.name)
        changed = inexact_number_text(column, field.type)
        if changed is not None and pc.any(changed).as_py():
            field = pa.field(field.name, pa.string())
        fields.append(field)
    return pa.schema(fields)


@dataclass(frozen=True)
class _Parsed:
    """What one chunk holds: per batch the good rows and the bad ones, and its record count.

    Lines are counted from the chunk's first record (1); the reading loop, which knows
    how many records came before, shifts them.
    """

    items: list[tuple[pa.RecordBatch | None, list[BadRow]]]
    records: int


@dataclass(frozen=True)
class _Work:
    """A chunk to parse, and whether it starts with the file's header."""

    chunk: Chunk
    header: bool


class _File:
    """The state of reading one file: its columns, and the records counted so far."""

    def __init__(self, loc: Location, config: FilesExtract, target: TargetSchema) -> None:
        self.loc = loc
        self.config = config
        self.target = target
        declared = config.declared_columns()
        self.names: list[str] | None = None if config.csv.header else declared
        self.records = 0

    def start(self, data: bytes) -> None:
        """Take the columns (and, when inferring, the types) from the first chunk."""
        if self.config.csv.header or self.target.schema is None:
            typed = _parse(self.loc, self.config, data, self.names, None)
            names = list(typed.schema.names)
            _check_unique(self.loc, names)
            if self.target.schema is None:
                text = _parse(
                    self.loc, self.config, data, None if self.config.csv.header else names, names
                )
                self.target.adopt(self.loc.uri, _exact_types(typed.schema, text))
            self.names = names
        else:
            self.names = self.target.names
        self.target.check_columns(self.loc.uri, self.names)

    def parse(self, chunk: Chunk, header: bool) -> _Parsed:
        """Parse and cast one chunk of whole records (``header``: it starts with the header).

        Runs on a worker thread: it reads no state that the reading loop changes, and
        numbers lines from the chunk's start (see :class:`_Parsed`).
        """
        names = self.names
        assert names is not None
        if chunk.broken is not None:
            bad_record = BadRow(self.loc.uri, 1, chunk.broken, _text(_line(bytes(chunk.data))))
            return _Parsed([(None, [bad_record])], 1)
        skipped: list[int] = []
        bad: list[BadRow] = []

        def on_invalid_row(row: pacsv.InvalidRow) -> str:
            number = row.number or 0
            skipped.append(number)
            bad.append(
                BadRow(
                    self.loc.uri,
                    number,
                    f"expected {row.expected_columns} fields, got {row.actual_columns}",
                    row.text,
                )
            )
            return "skip"

        table = _parse(
            self.loc, self.config, chunk.data, None if header else names, names, on_invalid_row
        )
        records = table.num_rows + len(bad) + (1 if header else 0)
        items = _cast_table(self, table, bad, 2 if header else 1, skipped)
        return _Parsed(items, records)


def read_csv(
    loc: Location, config: FilesExtract, target: TargetSchema
) -> Iterator[tuple[pa.RecordBatch | None, list[BadRow]]]:
    """Stream one CSV file as (good rows in the target schema, bad rows) per batch.

    Chunks are parsed and cast on worker threads (``ordered_map``); their results come
    back in file order, and each chunk's lines are shifted by the records before it.
    """
    opts = config.csv
    file = _File(loc, config, target)
    chunks = split_records(
        byte_pieces(loc, config.compression, opts.block_size),
        quote=ord(opts.quote_char),
        delimiter=ord(opts.delimiter),
        max_field_bytes=opts.max_field_bytes,
        block_size=opts.block_size,
    )
    head, sample, too_long = _sample(loc, file, chunks, opts.block_size)
    if too_long is not None:
        _count(file, head, sample)
        raise DataRejected(f"{loc.uri} line {file.records + 1}: {too_long}")
    if not sample:
        _empty(loc, config, target)
    else:
        file.start(sample)
    work = _work(config.csv.header, itertools.chain(head, chunks))
    try:
        for parsed in ordered_map(lambda item: file.parse(item.chunk, item.header), work):
            base = file.records
            for good, bad in parsed.items:
                yield good, [replace(row, line=row.line + base) for row in bad]
            file.records += parsed.records
    except RecordTooLong as err:
        raise DataRejected(f"{loc.uri} line {file.records + 1}: {err}") from None


def _work(header: bool, chunks: Iterator[Chunk]) -> Iterator[_Work]:
    """The chunks holding records, the first of them marked as starting with the header."""
    for chunk in chunks:
        if chunk.broken is None and chunk.blank:
            continue
        yield _Work(chunk, header and chunk.broken is None)
        header = header and chunk.broken is not None


def _sample(
    loc: Location, file: "_File", chunks: Iterator[Chunk], block_size: int
) -> tuple[list[Chunk], bytes, RecordTooLong | None]:
    """The first chunks read, and their good records joined: the sample to infer from.

    Reads on until the good records fill ``block_size`` bytes, so that malformed
    records set aside early do not leave the schema to the few records before them.
    Also returns the error when a record too long for a block came up meanwhile.
    """
    head: list[Chunk] = []
    good: list[memoryview | bytes] = []
    size = 0
    while True:
        try:
            chunk = next(chunks, None)
        except RecordTooLong as err:
            return head, b"".join(good), err
        if chunk is None:
            break
        if chunk.broken is not None and not head and file.config.csv.header:
            raise DataRejected(f"{loc.uri} line 1: the header is malformed: {chunk.broken}")
        head.append(chunk)
        if chunk.broken is None and not chunk.blank:
            good.append(chunk.data)
            size += len(chunk.data)
            if size >= block_size:
                break
    return head, b"".join(good), None


def _count(file: "_File", head: list[Chunk], sample: bytes) -> None:
    """Count the records of the chunks read so far (to name the record after them)."""
    if sample:
        file.start(sample)
    for item in _work(file.config.csv.header, iter(head)):
        file.records += file.parse(item.chunk, item.header).records


def _cast_table(
    file: "_File", table: pa.Table, pending: list[BadRow], first_record: int, skipped: list[int]
) -> list[tuple[pa.RecordBatch | None, list[BadRow]]]:
    """The parsed rows cast to the target, batch by batch, with the rows that do not fit.

    ``pending`` (malformed records) go with the first batch; lines are the chunk's own.
    """
    target, names = file.target, file.names
    assert names is not None
    items: list[tuple[pa.RecordBatch | None, list[BadRow]]] = []
    accepted = 0
    for batch in table.to_batches(max_chunksize=file.config.batch_size):
        good, failures = target.cast(
            file.loc.uri, batch.select(target.names), exact_text=not target.declared
        )
        bad = pending.copy()
        pending.clear()
        for failure in failures:
            line = _record_number(first_record + accepted + failure.index, skipped)
            fields = [batch.column(n)[failure.index].as_py() for n in names]
            raw = file.config.csv.delimiter.join(_text(v) for v in fields)
            bad.append(BadRow(file.loc.uri, line, failure.problem, raw))
        accepted += batch.num_rows
        items.append((good, sorted(bad, key=lambda r: r.line)))
    if pending:
        items.append((None, pending))
    return items


def _empty(loc: Location, config: FilesExtract, target: TargetSchema) -> None:
    """A file without records: fine when its columns are known, else it cannot be read."""
    if config.csv.header or target.schema is None:
        raise DataRejected(
            f"{loc.uri}: cannot read as CSV: Empty CSV file; check format and csv options"
        )


def _line(data: bytes) -> bytes:
    return data.rstrip(b"\r\n")


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
