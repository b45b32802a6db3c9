"""``Rejected``: what a user's function yields for rows it will not pass on.

The step writes them to the artifact's quarantine with the reason in the
``_ferry_reason`` column, as ``check`` does, and counts them as rows rejected. The
class is plain data and imports nothing, so a user's module can import it cheaply;
the step checks what it holds when it receives it.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Rejected:
    """Rows a function rejects, with one reason for all of them.

    Example::

        from steps.python_step import Rejected

        def clean(orders):
            for batch in orders:
                bad = pc.less(batch["amount"], 0)
                yield batch.filter(pc.invert(bad))
                yield Rejected(batch.filter(bad), reason="amount < 0")

    Every ``Rejected`` of one step must have the same columns (they share the
    quarantine's schema); yield several, one per reason, for rows rejected for
    different reasons.
    """

    rows: Union["pa.RecordBatch", "pa.Table"]
    """The rejected rows, with their columns (usually the input's)."""

    reason: str
    """Why they are rejected, stored with every row in ``_ferry_reason``; not empty."""
