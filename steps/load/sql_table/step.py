"""``load-sql``: load the single input artifact into a table, idempotently."""

from steps.databases.load_target import LoadId
from steps.load.sql_table.config import SqlTableLoad
from steps.load.sql_table.writer import load_artifact
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext


def run(ctx: StepContext, config: SqlTableLoad) -> RowCounts:
    """Load ``--input`` into ``config.table`` (once per pipeline, step, run and table)."""
    artifact = ctx.only_input()
    load = LoadId(pipeline=ctx.pipeline, step=ctx.step, run_id=ctx.run_id, table=config.table)
    if not artifact.paths():
        ctx.log.event("nothing_to_load", table=config.table, reason="input has no data files")
        return RowCounts(rows_in=0, rows_out=0)
    rows = load_artifact(artifact, config, load, ctx.log)
    return RowCounts(rows_in=rows, rows_out=rows)
