"""The one incremental cursor of every source: bounds, boundary de-duplication, state.

SQL and HTTP sources and ``commit-state`` share it:

- :mod:`steps.incremental.values`: cursor values between JSON, Python and Arrow, lag.
- :mod:`steps.incremental.digests`: 16-byte row digests (key columns + cursor value).
- :mod:`steps.incremental.state`: the state file (mark + digests of the boundary rows).
- :mod:`steps.incremental.run`: :class:`Incremental`, one run's window and filter.

The lower bound is inclusive (the stored mark minus ``lag``), so rows that share the
mark but arrived after the run that set it are read; the rows that run already
delivered are dropped by digest, so each row version is delivered once. An explicit
window (``window_start``) is stateless. See docs/sources-and-targets-sql.md.
"""

from steps.incremental.run import Incremental
from steps.incremental.state import CursorState, read_state, write_state

__all__ = ["CursorState", "Incremental", "read_state", "write_state"]
