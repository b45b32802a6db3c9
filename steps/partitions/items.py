"""The partition items of a spec: small JSON objects, each with a unique ``key``.

The list becomes the ``partitions`` output parameter, which the fanned-out task
expands with ``withParam``; it never carries data, only what names a partition.
"""

import datetime as dt
import itertools
from typing import TYPE_CHECKING

from steps.partitions.spec import (
    MAX_PARTITIONS,
    DateRange,
    FileGlob,
    FromStep,
    KeyRanges,
    safe_key,
)
from steps.runtime.errors import DataRejected, StepUsageError

if TYPE_CHECKING:
    from steps.runtime.context import StepContext

Item = dict[str, str]


def _unique_keys(names: list[str]) -> list[str]:
    """Each name as a key; a repeated key gets ``-2``, ``-3``, ... in order."""
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        key = safe_key(name) or "partition"
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}-{seen[key]}")
    return keys


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise StepUsageError(
            f"partitions {field} {text!r} is not a date; give YYYY-MM-DD (or a timestamp)"
        ) from None


def date_items(spec: DateRange) -> list[Item]:
    """``[start, end)`` cut into windows of ``spec.days`` days."""
    start, end = _day(spec.start, "start"), _day(spec.end, "end")
    if end <= start:
        raise StepUsageError(
            f"partitions end {end} is not after start {start}; the range is [start, end)"
        )
    items = []
    day = start
    while day < end:
        upper = min(day + dt.timedelta(days=spec.days), end)
        items.append({"key": day.isoformat(), "start": day.isoformat(), "end": upper.isoformat()})
        day = upper
    return items


def file_items(spec: FileGlob) -> list[Item]:
    """One item per file ``spec.path`` matches, in path order."""
    from steps.extract.files.listing import list_source_files

    uris = [loc.uri for loc in list_source_files(spec.path)]
    names = [uri.rsplit("/", 1)[-1] for uri in uris]
    return [{"key": k, "path": u} for k, u in zip(_unique_keys(names), uris, strict=True)]


def key_range_items(spec: KeyRanges) -> list[Item]:
    """``spec.count`` ranges ``[lower, upper)`` covering the column's MIN .. MAX."""
    lowest, highest = _min_max(spec)
    if lowest is None or highest is None:
        return []
    if isinstance(lowest, dt.datetime) or isinstance(highest, dt.datetime):
        raise StepUsageError(
            f"key-ranges column {spec.column!r} is a timestamp; split on an integer or date "
            "column (or a date cast in the query)"
        )
    if isinstance(lowest, dt.date) and isinstance(highest, dt.date):
        span = (highest - lowest).days + 1
        width = -(-span // spec.count)
        bounds = [lowest + dt.timedelta(days=d) for d in range(0, span, width)]
        bounds.append(highest + dt.timedelta(days=1))
        texts = [b.isoformat() for b in bounds]
    elif isinstance(lowest, int) and isinstance(highest, int):
        width = -(-(highest - lowest + 1) // spec.count)
        numbers = [*range(lowest, highest + 1, width), highest + 1]
        texts = [str(n) for n in numbers]
    else:
        raise StepUsageError(
            f"key-ranges column {spec.column!r} holds {type(lowest).__name__} values; split on "
            "an integer or date column"
        )
    return [{"key": low, "lower": low, "upper": high} for low, high in itertools.pairwise(texts)]


def _min_max(spec: KeyRanges) -> tuple[object, object]:
    """The column's MIN and MAX in the source table or query."""
    from steps.databases.sql import quote_name, subquery
    from steps.extract.sql.query import build_select
    from steps.extract.sql.reader import stream_batches

    source = spec.source
    url = source.database_url()
    column = quote_name(url.dialect, spec.column)
    select = build_select(url.dialect, source.table, source.query)
    sql = (
        f"SELECT MIN({column}) AS _ferry_lower, MAX({column}) AS _ferry_upper "
        f"FROM {subquery(url.dialect, select)} AS _ferry_ranges"
    )
    for batch in stream_batches(url, source.password(), sql, 1, source.bounds()):
        if batch.num_rows:
            return batch.column(0)[0].as_py(), batch.column(1)[0].as_py()
    return None, None


def step_items(spec: FromStep, ctx: "StepContext") -> list[Item]:
    """One item per distinct non-null value of ``spec.column`` in the upstream artifact."""
    import pyarrow.compute as pc

    artifact = ctx.read_input(spec.step)
    values: set[str] = set()
    if artifact.paths():
        if spec.column not in artifact.schema.names:
            raise StepUsageError(
                f"partitions column {spec.column!r} is not in step {spec.step!r} "
                f"(columns: {', '.join(artifact.schema.names)})"
            )
        for batch in artifact.batches():
            column = batch.column(spec.column).drop_null()
            values.update(str(v) for v in pc.unique(column).to_pylist())
            if len(values) > MAX_PARTITIONS:
                break
    ordered = sorted(values)
    return [{"key": k, "value": v} for k, v in zip(_unique_keys(ordered), ordered, strict=True)]


def checked(items: list[Item], what: str) -> list[Item]:
    """``items`` if there are some and not too many, else the error saying so."""
    if not items:
        raise DataRejected(f"{what} gives no partitions; nothing to run")
    if len(items) > MAX_PARTITIONS:
        raise DataRejected(
            f"{what} gives more than {MAX_PARTITIONS} partitions; partition more coarsely"
        )
    return items
