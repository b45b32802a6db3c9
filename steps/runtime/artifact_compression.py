"""How an artifact's Parquet is compressed: not at all on local disk, Snappy on S3.

An artifact is read back once or twice by the next steps. On S3 its bytes cross the
network twice, so Snappy (2.3x smaller for the demo's orders) pays for itself. In a
local store they never leave the machine's page cache, and compressing them costs
more CPU than it saves: for 10M demo orders about 1 s to write and 0.7 s to read
back, per hand-over between steps (docs/performance.md). Encoding only: what is
read back is the same either way. ``FERRY_ARTIFACT_COMPRESSION`` overrides it, e.g.
``snappy`` for a local store on a small disk, or ``zstd`` for a slow network.
"""

import os

from steps.runtime.errors import StepUsageError
from steps.runtime.store import Location

ENV = "FERRY_ARTIFACT_COMPRESSION"
CODECS = ("none", "snappy", "lz4", "zstd", "gzip")
"""The codecs both pyarrow and DuckDB write (DuckDB calls ``none`` ``uncompressed``)."""


def artifact_compression(loc: Location) -> str:
    """The codec for an artifact's Parquet files at ``loc`` (one of :data:`CODECS`)."""
    chosen = os.environ.get(ENV, "").strip().lower()
    if not chosen:
        return "none" if loc.is_local else "snappy"
    if chosen not in CODECS:
        raise StepUsageError(
            f"{ENV}={chosen!r} is no Parquet codec artifacts can use; set one of "
            f"{', '.join(CODECS)} or unset it (none for a local store, snappy on S3)"
        )
    return chosen


def duckdb_codec(codec: str) -> str:
    """The name DuckDB's ``COPY ... (COMPRESSION ...)`` knows the codec by."""
    return "uncompressed" if codec == "none" else codec
