"""JSON Lines files as record batches, with broken lines and unreadable values set aside.

The file is streamed in chunks of whole lines; each chunk is parsed by pyarrow's JSON
reader in one vectorised call. pyarrow checks neither UTF-8 nor that a line holds one
object (``{"a":1} {"a":2}`` gives two rows), so the chunk is also checked to be UTF-8
and to give one row per non-blank line; otherwise row numbers would stop matching
lines and bad text would reach the artifact. Only a chunk that fails any of this is
looked at line by line: lines that are not valid UTF-8 holding exactly one JSON
object are rejected, and the rest is parsed in halves until every part parses (a
field whose JSON type changes between lines then lands in separate parts and is cast
like any other value; a value whose type cannot be cast at all, such as an object
where a string is expected, rejects its line). An absent key is null.

pyarrow turns every ISO-looking string into a naive timestamp, dropping its offset
(or hiding that it had none), even for a column declared as text. So declared
string, date and timestamp columns are read as text (dates and timestamps then
parsed by the same strict cast as CSV); a value of another JSON kind there makes
pyarrow refuse the chunk, and on its own line is rejected naming the column.

Line numbers are physical lines counted from 1; blank lines are skipped but counted.
"""

import io
import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from steps.extract.files.casting import CastFailure
from steps.extract.files.config import FilesExtract
from steps.extract.files.quarantine import BadRow
from steps.extract.files.schema import TargetSchema
from steps.extract.files.source import byte_pieces
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

    def keep_text(self, target: TargetSchema) -> None:
        """Parse again with text for columns pyarrow made timestamps where text is due.

        pyarrow's inference turns ISO-looking strings into naive timestamps, dropping
        any offset; a JSON string must stay the text it is unless a type is declared.
        """
        stamps = [
            f.name
            for f in self.table.schema
            if pa.types.is_timestamp(f.type) and (target.schema is None or _is_text(target, f.name))
        ]
        if not stamps:
            return
        data = self._chunk if self._lines is None else b"\n".join(t for _, t in self._lines)
        text = [pa.field(n, pa.string()) for n in stamps]
        self.table = _parse(data, [*_text_fields(target), *text]).select(self.table.column_names)


def _is_text(target: TargetSchema, name: str) -> bool:
    assert target.schema is not None
    index = target.schema.get_field_index(name)
    return index != -1 and pa.types.is_string(target.schema.field(index).type)


def _non_blank_lines(first_line: int, chunk: bytes) -> Lines:
    return [(first_line + i, text) for i, text in enumerate(chunk.split(b"\n")) if text.strip()]


def _chunks(loc: Location, compression: str) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes of whole lines) in order."""
    line = 1
    rest = b""
    for data in byte_pieces(loc, compression, _CHUNK_BYTES):
        rest += data
        cut = rest.rfind(b"\n")
        if cut == -1:
            continue
        chunk, rest = rest[: cut + 1], rest[cut + 1 :]
        yield line, chunk
        line += chunk.count(b"\n")
    if rest.strip():
        yield line, rest


def _text_fields(target: TargetSchema) -> list[pa.Field]:
    """The string, date and timestamp columns, which are read as text (see above)."""
    if target.schema is None:
        return []
    types = pa.types
    return [
        f
        for f in target.schema
        if types.is_string(f.type)
        or types.is_large_string(f.type)
        or types.is_date(f.type)
        or types.is_timestamp(f.type)
    ]


def _parse(data: bytes, text_fields: list[pa.Field]) -> pa.Table:
    options = pajson.ReadOptions(use_threads=True, block_size=max(len(data) + 1, 1 << 20))
    explicit = pa.schema([(f.name, pa.string()) for f in text_fields]) if text_fields else None
    parse = pajson.ParseOptions(explicit_schema=explicit)
    return pajson.read_json(io.BytesIO(data), read_options=options, parse_options=parse)


def _text_field_problem(text: bytes, text_fields: list[pa.Field]) -> str | None:
    """Why a line's value in a text-read column is not a string, or None.

    Only for a line pyarrow refused, so that its reason names the column and value
    like any other cast failure instead of pyarrow's "changed from string to number".
    """
    record = json.loads(text)
    for field in text_fields:
        value = record.get(field.name)
        if value is not None and not isinstance(value, str):
            return CastFailure(0, field.name, value, field.type).problem
    return None


def _parse_lines(
    lines: Lines, text_fields: list[pa.Field]
) -> Iterator[tuple[pa.Table | str, Lines]]:
    """Parse lines that are each a JSON object, splitting where types clash.

    Yields each parsed table with its lines, or for a single line that pyarrow cannot
    read, the reason instead of a table.
    """
    try:
        yield _parse(b"\n".join(text for _, text in lines), text_fields), lines
    except pa.ArrowInvalid as err:
        if len(lines) == 1:
            problem = _text_field_problem(lines[0][1], text_fields)
            yield problem or f"cannot be read: {err}", lines
            return
        half = len(lines) // 2
        yield from _parse_lines(lines[:half], text_fields)
        yield from _parse_lines(lines[half:], text_fields)


def _as_text(chunk: bytes) -> pa.Array | None:
    """The chunk as a one-value string array (no copy), or None when it is not UTF-8."""
    offsets = pa.array([0, len(chunk)], pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(chunk)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return text


def _tight_line_count(chunk: bytes) -> int | None:
    """The number of lines when each is exactly ``{...}``, or None.

    This is the common layout (no blank lines, no spaces around objects), checked at
    memory speed; other layouts take the slower vectorised check.
    """
    data = np.frombuffer(chunk, np.uint8)
    breaks = np.flatnonzero(data == ord("\n"))
    last = len(data) - 1
    inner = breaks[breaks < last]
    closing = last - 1 if data[last] == ord("\n") else last
    tight = (
        data[0] == ord("{")
        and data[closing] == ord("}")
        and bool((data[breaks - 1] == ord("}")).all())
        and bool((data[inner + 1] == ord("{")).all())
    )
    return len(inner) + 1 if tight else None


def _one_object_per_line(chunk: bytes, text: pa.Array, rows: int) -> bool:
    """Whether the ``rows`` parsed rows are the non-blank lines, one each, in order.

    pyarrow lets an object span lines and puts several on one line. When every
    non-blank line starts with ``{`` and ends with ``}`` no object can span lines
    (a JSON string holds no raw newline, and after an inner ``}`` only ``,``, ``}``
    or ``]`` may follow), so each line holds at least one object and equal counts
    mean exactly one. Vectorised either way: no Python work per line.
    """
    tight = _tight_line_count(chunk)
    if tight is not None:
        return tight == rows
    lines = pc.ascii_trim_whitespace(pc.list_flatten(pc.split_pattern(text, "\n")))
    lines = lines.filter(pc.greater(pc.binary_length(lines), 0))
    if len(lines) != rows:
        return False
    return rows == 0 or bool(
        pc.all(pc.starts_with(lines, "{")).as_py() and pc.all(pc.ends_with(lines, "}")).as_py()
    )


def _raw(text: bytes) -> str:
    """The line as quarantine text; bytes that are not UTF-8 are kept as backslash escapes."""
    return text.decode("utf-8", "backslashreplace")


def _whole(first_line: int, chunk: bytes, text_fields: list[pa.Field]) -> _Part | None:
    """The chunk parsed in one call, or None when it must be read line by line."""
    text = _as_text(chunk)
    if text is None:
        return None
    try:
        table = _parse(chunk, text_fields)
    except pa.ArrowInvalid:
        return None
    if not _one_object_per_line(chunk, text, table.num_rows):
        return None
    return _Part(table, first_line, chunk, None)


def _broken_line_problem(text: bytes) -> str | None:
    """Why a line is not valid UTF-8 holding exactly one JSON object, or None."""
    try:
        value = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError as err:
        return f"invalid UTF-8 at byte {err.start + 1} of the line"
    except json.JSONDecodeError as err:
        if err.msg == "Extra data" and text.lstrip().startswith(b"{"):
            return f"extra text after the JSON object at column {err.colno}"
        return f"invalid JSON: {err}"
    return None if isinstance(value, dict) else "not a JSON object"


def _parts(
    uri: str, first_line: int, chunk: bytes, text_fields: list[pa.Field]
) -> Iterator[tuple[_Part | None, list[BadRow]]]:
    whole = _whole(first_line, chunk, text_fields)
    if whole is not None:
        yield whole, []
        return
    good: Lines = []
    bad: list[BadRow] = []
    for number, text in _non_blank_lines(first_line, chunk):
        problem = _broken_line_problem(text)
        if problem is None:
            good.append((number, text))
        else:
            bad.append(BadRow(uri, number, problem, _raw(text)))
    yield None, bad
    if good:
        for table, lines in _parse_lines(good, text_fields):
            if isinstance(table, str):
                number, text = lines[0]
                yield None, [BadRow(uri, number, table, _raw(text))]
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
    for first_line, chunk in _chunks(loc, config.compression):
        text_fields = _text_fields(target)
        for part, bad in _parts(loc.uri, first_line, chunk, text_fields):
            if part is None:
                yield None, bad
                continue
            part.keep_text(target)
            target.adopt(loc.uri, part.table.schema)
            target.check_columns(loc.uri, part.table.column_names, missing_ok=True)
            offset = 0
            for batch in _aligned(part, target).to_batches(max_chunksize=config.batch_size):
                good, failures = target.cast(loc.uri, batch, per_value_types=True)
                rows = []
                for failure in failures:
                    number, text = part.line(offset + failure.index)
                    rows.append(BadRow(loc.uri, number, failure.problem, _raw(text)))
                offset += batch.num_rows
                yield good, rows
