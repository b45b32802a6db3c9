"""Split a CSV byte stream into chunks of whole records, setting aside broken quotes.

pyarrow's CSV reader lets a quoted value run on until the next quote character, so a
value whose closing quote is missing swallows every following record into one field
(up to the end of the file, or until the value straddles a block and the read fails).
So records are found here first, with the quoting rules of pyarrow's parser (a quote
opens a quoted value only at the start of a field; inside one, ``""`` is a quote and
any other quote closes it), and pyarrow only ever sees chunks of whole records.

A quoted value that is not closed within ``max_field_bytes`` bytes of its opening
quote, or not before the end of the file, makes its record malformed. Its end is then
unknown, so the record is taken to end with the physical line on which the quote
opened, and reading resumes on the next line (a stray quote is the usual cause). A
record must fit in ``block_size`` bytes; a longer one stops the read with an error
naming that setting.

The scan is vectorised (numpy over the bytes of a block). Only when a quote stands in
the middle of an unquoted field (``5"3``, which pyarrow keeps as text) is the block
scanned quote by quote in Python, which costs one step per quote character.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

_LF = ord("\n")
_CR = ord("\r")


class RecordTooLong(Exception):
    """A record does not fit in ``block_size`` bytes (the caller knows which record it is)."""


@dataclass(frozen=True)
class Chunk:
    """Whole records (``data``, a view of the block read), or one malformed record.

    A malformed record's ``data`` is its own bytes and ``broken`` says why.
    """

    data: memoryview | bytes
    broken: str | None = None

    @property
    def blank(self) -> bool:
        """Whether the records are only whitespace (without copying them to find out)."""
        data = self.data
        head = bytes(data[:256])
        return not head.strip() and not bytes(data).strip()


@dataclass(frozen=True)
class _Scan:
    """The quoted values of a buffer that starts at a record start."""

    starts: np.ndarray
    """Opening quote of each quoted value."""
    ends: np.ndarray
    """Closing quote of each quoted value; the buffer length when still open."""
    open_at_end: bool


_FEW_QUOTES = 64
"""Up to this many quotes in a block are found by ``bytes.find`` (memchr) instead of numpy."""


def _quote_positions(data: bytes, arr: np.ndarray, quote: int) -> np.ndarray:
    """Every position of ``quote`` in ``data``: a few by searching, many by comparing all bytes.

    Most files quote rarely; comparing every byte of a 4 MB block costs about five
    times the searches, which run ahead of both parsers on one thread.
    """
    found: list[int] = []
    position = data.find(quote)
    while position != -1:
        if len(found) == _FEW_QUOTES:
            return np.flatnonzero(arr == quote)
        found.append(position)
        position = data.find(quote, position + 1)
    return np.array(found, np.int64)


def _scan(data: bytes, quote: int, delimiter: int) -> _Scan:
    arr = np.frombuffer(data, np.uint8)
    positions = _quote_positions(data, arr, quote)
    if len(positions) == 0:
        empty = np.zeros(0, np.int64)
        return _Scan(empty, empty, False)
    openers = positions[0::2]
    closers = positions[1::2]
    previous = arr[np.maximum(openers - 1, 0)]
    escaped = np.zeros(len(openers), bool)
    escaped[1:] = openers[1:] == closers[: len(openers) - 1] + 1
    at_field_start = (
        (openers == 0) | (previous == delimiter) | (previous == _LF) | (previous == _CR)
    )
    if not bool((at_field_start | escaped).all()):
        return _scan_slowly(arr, positions, quote, delimiter)
    value_starts = openers[~escaped]
    last_pair = np.flatnonzero(~escaped)[1:] - 1
    open_at_end = len(positions) % 2 == 1
    close_of_pair = np.append(closers, len(data)) if open_at_end else closers
    value_ends = np.append(close_of_pair[last_pair], close_of_pair[-1])
    return _Scan(value_starts, value_ends, open_at_end)


def _scan_slowly(arr: np.ndarray, positions: np.ndarray, quote: int, delimiter: int) -> _Scan:
    """The same as ``_scan`` for a buffer with quotes inside unquoted fields, quote by quote."""
    starts: list[int] = []
    ends: list[int] = []
    inside = False
    skip_next = False
    size = len(arr)
    quotes = positions.tolist()
    for index, pos in enumerate(quotes):
        if skip_next:
            skip_next = False
            continue
        if inside:
            if index + 1 < len(quotes) and quotes[index + 1] == pos + 1:
                skip_next = True
                continue
            ends.append(pos)
            inside = False
        elif pos == 0 or int(arr[pos - 1]) in (delimiter, _LF, _CR):
            starts.append(pos)
            inside = True
    if inside:
        ends.append(size)
    return _Scan(np.array(starts, np.int64), np.array(ends, np.int64), inside)


def _last_boundary(data: bytes, scan: _Scan, before: int) -> int:
    """The end (after its newline) of the last whole record ending before ``before``; 0 if none."""
    candidate = data.rfind(b"\n", 0, before)
    while candidate != -1:
        index = int(np.searchsorted(scan.starts, candidate)) - 1
        if index < 0 or scan.ends[index] < candidate:
            return candidate + 1
        candidate = data.rfind(b"\n", 0, int(scan.starts[index]))
    return 0


def split_records(
    stream: Iterator[bytes | memoryview],
    *,
    quote: int,
    delimiter: int,
    max_field_bytes: int,
    block_size: int,
) -> Iterator[Chunk]:
    """Chunks of whole records (each at most about ``block_size`` bytes) and broken records.

    ``stream`` yields the file's bytes in pieces. :class:`RecordTooLong` says that the
    next record does not fit in ``block_size`` bytes (the caller, who counts records,
    names it).

    This runs on one thread ahead of the parsers, so it copies each byte once: a
    block is joined from views of the pieces, and a chunk is a view of its block.
    """
    buffer = b""
    incoming = memoryview(b"")
    at_end = False
    skip_line = False
    pieces = iter(stream)
    while True:
        parts: list[bytes | memoryview] = [buffer]
        size = len(buffer)
        while not at_end and size < block_size:
            if not incoming:
                incoming = memoryview(next(pieces, b""))
                at_end = not incoming
                continue
            if skip_line:  # the rest of a broken record's line (rare: copying is fine)
                rest = bytes(incoming)
                newline = rest.find(b"\n")
                incoming = memoryview(b"" if newline == -1 else rest[newline + 1 :])
                skip_line = newline == -1
                continue
            room = block_size - size
            parts.append(incoming[:room])
            size += min(room, len(incoming))
            incoming = incoming[room:]
        buffer = b"".join(parts) if len(parts) > 1 else buffer
        if not buffer:
            return
        scan = _scan(buffer, quote, delimiter)
        lengths = scan.ends - scan.starts - 1
        too_long = np.flatnonzero(lengths > max_field_bytes)
        if len(too_long) or (scan.open_at_end and at_end):
            start = int(scan.starts[too_long[0] if len(too_long) else len(scan.starts) - 1])
            record_start = _last_boundary(buffer, scan, start)
            if record_start:
                yield Chunk(memoryview(buffer)[:record_start])
            line_end = buffer.find(b"\n", start)
            skip_line = line_end == -1 and not at_end
            cut = len(buffer) if line_end == -1 else line_end + 1
            problem = (
                f"a quoted value is not closed within csv.max_field_bytes ({max_field_bytes} "
                "bytes) of its opening quote"
                if len(too_long)
                else "a quoted value is not closed before the end of the file"
            )
            yield Chunk(buffer[record_start:cut], broken=problem)
            buffer = buffer[cut:]
            continue
        if at_end and not incoming:
            yield Chunk(memoryview(buffer))
            return
        boundary = _last_boundary(
            buffer, scan, int(scan.starts[-1]) if scan.open_at_end else len(buffer)
        )
        if boundary == 0:
            raise RecordTooLong(_record_too_long(block_size))
        yield Chunk(memoryview(buffer)[:boundary])
        buffer = buffer[boundary:]


def _record_too_long(block_size: int) -> str:
    return (
        f"a record is longer than csv.block_size ({block_size} bytes); raise csv.block_size "
        "(and csv.max_field_bytes for a long quoted value) or fix the file"
    )
