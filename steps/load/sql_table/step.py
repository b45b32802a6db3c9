"""``load-sql``: load the single input artifact into a table, idempotently.

A load is recorded in the table's ledger under its identity
(``steps.runtime.load_identity``): the run id, or for an append in a run with a data
interval, the interval. A retried step, and an append of an interval run again under a
new run id, find that row and load nothing, so no row is added twice.
"""

from steps.databases.load_target import LoadId
from steps.load.sql_table.config import SqlTableLoad
from steps.load.sql_table.writer import load_artifact
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.load_identity import load_identity


def run(ctx: StepContext, config: SqlTableLoad) -> RowCounts:
    """Load ``--input`` into ``config.table`` (once per pipeline, step, load and table)."""
    artifact = ctx.only_input()
    identity = load_identity(ctx.run_id, by_interval=config.mode == "append")
    load = LoadId(pipeline=ctx.pipeline, step=ctx.step, run_id=identity.key, table=config.table)
    if not artifact.paths():
        ctx.log.event("nothing_to_load", table=config.table, reason="input has no data files")
        return RowCounts(rows_in=0, rows_out=0)
    rows, repeated = load_artifact(artifact, config, load, ctx.log)
    if repeated and identity.interval is not None:
        ctx.warn(
            f"table {config.table!r}: {identity.describe()} was already appended ({rows} rows) "
            "by an earlier run of this step; nothing was loaded again, so no row is "
            "duplicated; to load the interval anew, delete its rows first or use mode upsert"
        )
    return RowCounts(rows_in=rows, rows_out=rows)
