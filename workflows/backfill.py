"""Backfill: one local run per data interval of a date range, each told its interval.

Each run gets ``run_date``, ``interval_start`` and ``interval_end``
(``workflows.intervals``). What happens to an interval that already has a run in the
store is the ``reprocess`` rule (as Airflow's ``reprocess_behavior``): ``none`` skips
it, ``failed`` runs it again when its latest run did not succeed, ``all`` always runs
it. A backfill must not move a high-water mark, so every incremental source has to
read the explicit window (``Cursor(window_start=param("interval_start"), ...)``);
a pipeline whose source would read and advance its state is refused up front.
"""

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from workflows.errors import UsageError
from workflows.intervals import Interval, intervals_between
from workflows.pipeline import Pipeline, Source
from workflows.runner.record import RunRecord, RunStatus

Reprocess = Literal["none", "failed", "all"]
"""What to do with an interval that already has a run."""

WINDOW_PARAMETERS = ("interval_start", "interval_end")


@dataclass
class IntervalRun:
    """One interval of a backfill: what is done with it and how it ended."""

    interval: Interval
    action: Literal["run", "skip"]
    earlier: RunRecord | None = None
    record: RunRecord | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        """``Succeeded``/``Failed``/``Error`` of the new run, ``Skipped``, or ``Planned``."""
        if self.error is not None:
            return RunStatus.ERROR.value
        if self.record is not None:
            return self.record.status.value
        return "Skipped" if self.action == "skip" else "Planned"

    def as_json(self) -> dict[str, Any]:
        """The row of ``ferry backfill --output json``."""
        return {
            **self.interval.parameters(),
            "action": self.action,
            "status": self.status,
            "run_id": self.record.run_id if self.record else None,
            "earlier_run_id": self.earlier.run_id if self.earlier else None,
            "message": self.error or (self.record.message if self.record else None),
        }


@dataclass
class Backfill:
    """The plan of a backfill and, once executed, its outcome."""

    pipeline: str
    runs: list[IntervalRun] = field(default_factory=list)

    @property
    def failed(self) -> list[IntervalRun]:
        """Intervals whose new run ended and did not succeed (none before it ran)."""
        ended = [r for r in self.runs if r.record is not None or r.error is not None]
        return [r for r in ended if r.status != RunStatus.SUCCEEDED.value]


def check_windowed_sources(pipeline: Pipeline) -> None:
    """Refuse a backfill that would read and move an incremental source's high-water mark.

    Raises:
        UsageError: an incremental source's cursor has no window from the interval (exit 2).
    """
    for source in pipeline.of_kind(Source):
        cursor = source.config.incremental_cursor()
        if cursor is None:
            continue
        window = str(getattr(cursor, "window_start", None) or "")
        if not any(name in window for name in WINDOW_PARAMETERS):
            raise UsageError(
                f"pipeline {pipeline.name!r}, step {source.name!r}: the source is incremental "
                "and its cursor reads no interval, so a backfill would read and move its "
                "high-water mark; set Cursor(window_start=param('interval_start'), "
                "window_end=param('interval_end'))"
            )


def _latest_by_interval(records: Sequence[RunRecord]) -> dict[tuple[str, str], RunRecord]:
    latest: dict[tuple[str, str], RunRecord] = {}
    for record in records:  # newest first
        key = (
            record.parameters.get("interval_start", ""),
            record.parameters.get("interval_end", ""),
        )
        if key != ("", "") and key not in latest:
            latest[key] = record
    return latest


def _action(earlier: RunRecord | None, reprocess: Reprocess) -> Literal["run", "skip"]:
    if earlier is None or reprocess == "all":
        return "run"
    if reprocess == "failed" and earlier.status in (RunStatus.FAILED, RunStatus.ERROR):
        return "run"
    return "skip"


def plan_backfill(
    pipeline: Pipeline,
    first_day: date,
    last_day: date,
    *,
    existing: Sequence[RunRecord],
    reprocess: Reprocess = "none",
    reverse: bool = False,
) -> Backfill:
    """Every interval of the range with what to do with it; nothing runs.

    Args:
        pipeline: the pipeline to backfill.
        first_day: the first day of the range (inclusive).
        last_day: the last day (inclusive).
        existing: the pipeline's recorded runs, newest first (``list_runs``).
        reprocess: what to do with an interval that already has a run.
        reverse: newest interval first.

    Raises:
        UsageError: a bad range or a source that would move its state (exit 2).
    """
    if last_day < first_day:
        raise UsageError(f"--to {last_day} is before --from {first_day}; swap them")
    check_windowed_sources(pipeline)
    try:
        intervals = intervals_between(pipeline.schedule, first_day, last_day)
    except ValueError as err:
        raise UsageError(f"backfill of {pipeline.name!r}: {err}") from None
    if not intervals:
        raise UsageError(
            f"pipeline {pipeline.name!r} has no scheduled run between {first_day} and "
            f"{last_day} ({', '.join(pipeline.schedule.cron) if pipeline.schedule else ''})"
        )
    latest = _latest_by_interval(existing)
    runs = []
    for interval in reversed(intervals) if reverse else intervals:
        params = interval.parameters()
        earlier = latest.get((params["interval_start"], params["interval_end"]))
        runs.append(IntervalRun(interval, _action(earlier, reprocess), earlier))
    return Backfill(pipeline.name, runs)


RunOne = Callable[[Mapping[str, str]], RunRecord]
"""Runs the pipeline once with these parameters and returns its record."""


def execute_backfill(
    backfill: Backfill,
    run_one: RunOne,
    *,
    parallel: int = 1,
    on_done: Callable[[IntervalRun], None] = lambda _: None,
) -> Backfill:
    """Run every planned interval, at most ``parallel`` at once, in plan order.

    A run that cannot start (a refused parameter, an unreachable store) is recorded as
    an error of its interval; the others still run.
    """

    def one(item: IntervalRun) -> IntervalRun:
        try:
            item.record = run_one(item.interval.parameters())
        except Exception as err:  # one interval's failure must not stop the others
            item.error = " ".join(str(err).split()) or type(err).__name__
        on_done(item)
        return item

    planned = [r for r in backfill.runs if r.action == "run"]
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(one, planned))
    return backfill
