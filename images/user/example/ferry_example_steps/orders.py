"""Orders: keep one status, add a computed column, quarantine the rest."""

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from steps.python_step import Rejected


def keep_status(
    orders: Iterator[pa.RecordBatch], *, params: dict[str, Any]
) -> Iterator[pa.RecordBatch | Rejected]:
    """Orders whose status is ``params["status"]``, with ``amount_gross``; others rejected."""
    rate = 1 + params.get("vat", 0.0)
    for batch in orders:
        keep = pc.equal(batch["status"], params["status"])
        kept = batch.filter(keep)
        yield kept.append_column("amount_gross", pc.multiply(kept["amount"], rate))
        yield Rejected(batch.filter(pc.invert(keep)), reason=f"status is not {params['status']}")
