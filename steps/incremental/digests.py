"""Row digests: 16-byte BLAKE2b of a row's key columns and cursor value.

The canonical encoding of a row is, for each digest column in order, ``N`` for a
null or ``V<byte length>:<value>`` with the value as Arrow casts it to text (binary
values as they are), concatenated. Length prefixes make it unambiguous whatever the
values contain. Encoding is vectorized (Arrow compute); only the rows that can be
boundary rows are hashed. The cursor value is always part of the digest, so a row
updated to a new cursor value is a new version and is delivered again.
"""

import hashlib
from typing import TYPE_CHECKING

from steps.runtime.errors import StepUsageError

if TYPE_CHECKING:
    import pyarrow as pa

DIGEST_BYTES = 16


def digest_columns(primary_key: list[str] | None, field: str, names: list[str]) -> list[str]:
    """The columns a digest covers: the key (or every column) and the cursor field."""
    columns = list(primary_key) if primary_key is not None else list(names)
    return columns if field in columns else [*columns, field]


def _encoded(column: "pa.Array") -> "pa.Array":
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        raw = column.cast(pa.binary())
    else:
        try:
            raw = pc.cast(column, pa.string()).cast(pa.binary())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise StepUsageError(
                f"a cursor digest column of type {column.type} cannot be encoded; name "
                "scalar columns in cursor.primary_key"
            ) from None
    length = pc.cast(pc.cast(pc.binary_length(raw), pa.string()), pa.binary())
    valid = pc.binary_join_element_wise(
        pa.scalar(b"V"), length, pa.scalar(b":"), raw, pa.scalar(b"")
    )
    return pc.if_else(pc.is_valid(column), valid, pa.scalar(b"N"))


def row_digests(batch: "pa.RecordBatch", columns: list[str]) -> "pa.Array":
    """The digest (fixed_size_binary(16)) of every row of ``batch`` over ``columns``.

    Raises:
        StepUsageError: a digest column is missing or cannot be encoded.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = [c for c in columns if c not in batch.schema.names]
    if missing:
        raise StepUsageError(
            f"cursor primary_key column(s) {', '.join(map(repr, missing))} not in the result "
            f"(columns: {', '.join(batch.schema.names)}); fix cursor.primary_key"
        )
    parts = [_encoded(batch.column(name)) for name in columns]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, pa.scalar(b""))
    digests = [
        hashlib.blake2b(row, digest_size=DIGEST_BYTES).digest() for row in joined.to_pylist()
    ]
    return pa.array(digests, pa.binary(DIGEST_BYTES))


def to_parquet(digests: list[bytes]) -> bytes:
    """A set of digests as Parquet bytes (one ``digest`` column)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    table = pa.table({"digest": pa.array(digests, pa.binary(DIGEST_BYTES))})
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def from_parquet(data: bytes) -> list[bytes]:
    """The digests in Parquet bytes written by :func:`to_parquet`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    return [bytes(d) for d in table.column("digest").to_pylist()]
