"""``partitions``: list a fanned-out step's partitions as the ``partitions`` output.

The fanned-out task expands the list with ``withParam``, so it must stay small: a
few fields per partition, at most ``MAX_PARTITIONS`` of them. The step reads no data
except for ``from-step``, which reads one column of its input, and ``key-ranges``,
which asks the database for one column's MIN and MAX.
"""

import json

from steps.contract import PARTITIONS_OUTPUT
from steps.partitions.config import ListPartitions
from steps.partitions.items import checked, date_items, file_items, key_range_items, step_items
from steps.partitions.spec import DateRange, FileGlob, KeyRanges
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.outputs import write_output_value


def run(ctx: StepContext, config: ListPartitions) -> RowCounts:
    """Compute the items and write them; the step moves no rows."""
    spec = config.spec
    if isinstance(spec, DateRange):
        items = checked(date_items(spec), f"the date range {spec.start} .. {spec.end}")
    elif isinstance(spec, FileGlob):
        items = checked(file_items(spec), f"the path {spec.path}")
    elif isinstance(spec, KeyRanges):
        what = spec.source.table or "the query"
        items = checked(key_range_items(spec), f"column {spec.column!r} of {what}")
    else:
        items = checked(step_items(spec, ctx), f"column {spec.column!r} of step {spec.step!r}")
    write_output_value(PARTITIONS_OUTPUT, json.dumps(items, separators=(",", ":")))
    ctx.log.event("partitions_listed", partitions=len(items), keys=[i["key"] for i in items][:20])
    return RowCounts(rows_in=0, rows_out=0)
