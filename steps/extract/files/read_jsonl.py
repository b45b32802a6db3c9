"""JSON Lines files as record batches, with broken lines and unreadable values set aside.

The file is streamed in chunks of whole lines; each chunk is parsed by pyarrow's JSON
reader in one vectorised call. Only a chunk that fails to parse is looked at line by
line: lines that are not a JSON object are rejected, and the rest is parsed in
halves until every part parses (a field whose JSON type changes between lines then
lands in separate parts and is cast like any other value). An absent key is null.

Line numbers are physical lines counted from 1; blank lines are skipped but counted.
"""

import io
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.json as pajson

from steps.extract.files.config import FilesExtract
from steps.extract.files.quarantine import BadRow
from steps.extract.files.schema import TargetSchema
from steps.runtime.store import Location

_CHUNK_BYTES = 4 << 20

Lines = list[tuple[int, bytes]]
"""Non-blank lines of a chunk: (1-based line number, text)."""


class _Part:
    """A parsed table and the lines its rows came from (worked out only when needed)."""

    def __init__(self, table: pa.Table, first_line: int, chunk: bytes, lines: Lines | None) -> None:
        self.table = table
        self._first_line = first_line
        self._chunk = chunk
        self._lines = lines

    def line(self, row: int) -> tuple[int, bytes]:
        if self._lines is None:
            self._lines = _non_blank_lines(self._first_line, self._chunk)
        return self._lines[row]


def _non_blank_lines(first_line: int, chunk: bytes) -> Lines:
    return [(first_line + i, text) for i, text in enumerate(chunk.split(b"\n")) if text.strip()]


def _chunks(loc: Location) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes of whole lines) in order."""
    line = 1
    rest = b""
    with loc.fs.open_input_stream(loc.path) as stream:
        while data := stream.read(_CHUNK_BYTES):
            rest += data
            cut = rest.rfind(b"\n")
            if cut == -1:
                continue
            chunk, rest = rest[: cut + 1], rest[cut + 1 :]
            yield line, chunk
            line += chunk.count(b"\n")
    if rest.strip():
        yield line, rest


def _parse(data: bytes) -> pa.Table:
    options = pajson.ReadOptions(use_threads=True, block_size=max(len(data) + 1, 1 << 20))
    return pajson.read_json(io.BytesIO(data), read_options=options)


def _parse_lines(lines: Lines) -> Iterator[tuple[pa.Table | str, Lines]]:
    """Parse lines that are each a JSON object, splitting where types clash.

    Yields each parsed table with its lines, or for a single line that pyarrow cannot
    read, the reason instead of a table.
    """
    try:
        yield _parse(b"\n".join(text for _, text in lines)), lines
    except pa.ArrowInvalid as err:
        if len(lines) == 1:
            yield f"cannot be read: {err}", lines
            return
        half = len(lines) // 2
        yield from _parse_lines(lines[:half])
        yield from _parse_lines(lines[half:])


def _broken_line_problem(text: bytes) -> str | None:
    try:
        value = json.loads(text)
    except ValueError as err:
        return f"invalid JSON: {err}"
    return None if isinstance(value, dict) else "not a JSON object"


def _parts(uri: str, first_line: int, chunk: bytes) -> Iterator[tuple[_Part | None, list[BadRow]]]:
    try:
        yield _Part(_parse(chunk), first_line, chunk, None), []
        return
    except pa.ArrowInvalid:
        pass
    good: Lines = []
    bad: list[BadRow] = []
    for number, text in _non_blank_lines(first_line, chunk):
        problem = _broken_line_problem(text)
        if problem is None:
            good.append((number, text))
        else:
            bad.append(BadRow(uri, number, problem, text.decode("utf-8", "replace")))
    yield None, bad
    if good:
        for table, lines in _parse_lines(good):
            if isinstance(table, str):
                number, text = lines[0]
                yield None, [BadRow(uri, number, table, text.decode("utf-8", "replace"))]
            else:
                yield _Part(table, first_line, chunk, lines), []


def _aligned(part: _Part, target: TargetSchema) -> pa.Table:
    """The part's columns in target order, absent keys as nulls."""
    table = part.table
    columns = [
        table.column(name) if name in table.column_names else pa.nulls(table.num_rows)
        for name in target.names
    ]
    return pa.table(columns, names=target.names)


def read_jsonl(
    loc: Location, config: FilesExtract, target: TargetSchema
) -> Iterator[tuple[pa.RecordBatch | None, list[BadRow]]]:
    """Stream one JSON Lines file as (good rows in the target schema, bad rows) per batch."""
    for first_line, chunk in _chunks(loc):
        for part, bad in _parts(loc.uri, first_line, chunk):
            if part is None:
                yield None, bad
                continue
            target.adopt(loc.uri, part.table.schema)
            target.check_columns(loc.uri, part.table.column_names, missing_ok=True)
            offset = 0
            for batch in _aligned(part, target).to_batches(max_chunksize=config.batch_size):
                good, failures = target.cast(loc.uri, batch)
                rows = []
                for failure in failures:
                    number, text = part.line(offset + failure.index)
                    rows.append(
                        BadRow(loc.uri, number, failure.problem, text.decode("utf-8", "replace"))
                    )
                offset += batch.num_rows
                yield good, rows
