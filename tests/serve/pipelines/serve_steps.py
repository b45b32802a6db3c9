"""A Python step that takes its time, so a test can stop a run while it goes."""

import time
from collections.abc import Iterator

import pyarrow as pa


def linger(people: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Pass the rows on after a minute: long enough to be stopped mid-run."""
    time.sleep(60)
    yield from people
