"""``commit-state``: store each source's new mark and boundary digests from its manifest.

The renderer runs this step after every target of the run, so a mark only moves
once all loads of the rows below it have committed. The mark and the digests of the
rows the next run re-reads are replaced together (``steps.incremental.state``). A
source that read an explicit window (a backfill) is stateless: its state is left
as it is.
"""

from steps.incremental.state import KeySet, write_state
from steps.incremental.values import KINDS
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import StepError
from steps.state.config import CommitState


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
        if cursor.get("stateless"):
            ctx.log.event(
                "state_unchanged", source=source, field=cursor["field"], reason="explicit window"
            )
            continue
        if cursor.get("value") is None:
            ctx.log.event(
                "state_unchanged", source=source, field=cursor["field"], reason="no rows yet"
            )
            continue
        kind = cursor.get("kind")
        loc = ctx.state_location(source)
        state = write_state(
            loc,
            source,
            cursor["field"],
            cursor["value"],
            ctx.run_id,
            kind=kind if kind in KINDS else None,
            keys=KeySet.from_fields(cursor, artifact.loc),
        )
        ctx.log.event(
            "state_committed",
            source=source,
            field=state.field,
            value=state.value,
            keys=len(state.keys.digests),
            uri=loc.uri,
        )
    return RowCounts(rows_in=0, rows_out=0)
