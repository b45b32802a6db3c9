"""``commit-state``: store each source's new high-water mark from its artifact manifest.

The renderer runs this step after every target of the run, so a mark only moves
once all loads of the rows below it have committed.
"""

from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import StepError
from steps.state.config import CommitState
from steps.state.cursor_state import write_cursor_state


def run(ctx: StepContext, config: CommitState) -> RowCounts:
    """Write the state file of every source in ``config.sources``."""
    for source in config.sources:
        artifact = ctx.read_input(source)
        cursor = artifact.manifest.get("cursor")
        if not isinstance(cursor, dict) or "field" not in cursor:
            raise StepError(
                f"input {source!r} at {artifact.loc.uri} carries no cursor in its manifest; "
                "only incremental sources (with a cursor) belong in commit-state sources"
            )
        if cursor.get("value") is None:
            ctx.log.event(
                "state_unchanged", source=source, field=cursor["field"], reason="no rows yet"
            )
            continue
        loc = ctx.state_location(source)
        state = write_cursor_state(loc, source, cursor["field"], cursor["value"], ctx.run_id)
        ctx.log.event(
            "state_committed", source=source, field=state.field, value=state.value, uri=loc.uri
        )
    return RowCounts(rows_in=0, rows_out=0)
