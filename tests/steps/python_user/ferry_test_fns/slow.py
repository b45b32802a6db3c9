"""A step function that takes its time: for tests that stop a running step."""

import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa


def sleeps(orders: Iterator[pa.RecordBatch], *, params: dict[str, Any]) -> Iterator[pa.RecordBatch]:
    """Sleep ``params['seconds']``, then pass the rows through."""
    time.sleep(float(params["seconds"]))
    yield from orders
