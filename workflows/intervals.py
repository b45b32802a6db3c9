"""Data intervals: which stretch of time each run of a pipeline covers.

A scheduled run at fire time T covers ``[previous fire time, T)``, both read in the
schedule's timezone, so "yesterday" stays right across DST changes (a day may have 23
or 25 hours). Its ``run_date`` is T's date in UTC, the day Argo's default
``run_date`` (the workflow's creation day, UTC) gives the scheduled run itself, so a
backfilled run and the scheduled run it replaces see the same parameters. An
unscheduled pipeline is backfilled per UTC day: ``[D 00:00, D+1 00:00)``, run_date D.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from steps.runtime.scheduled_interval import previous_fire_time
from workflows.pipeline import Schedule

MAX_INTERVALS = 10_000
"""Most intervals one backfill plans: a typo in a range must not plan a million runs."""


@dataclass(frozen=True)
class Interval:
    """One run's stretch of time and the parameters that tell the run about it."""

    start: datetime
    end: datetime
    run_date: str

    def parameters(self) -> dict[str, str]:
        """``run_date``, ``interval_start``, ``interval_end`` (ISO 8601 with offset)."""
        return {
            "run_date": self.run_date,
            "interval_start": self.start.isoformat(),
            "interval_end": self.end.isoformat(),
        }


def _fire_times(schedule: Schedule, first: datetime, last: datetime) -> list[datetime]:
    """Every fire time of every cron expression in ``[first, last]``, sorted, once each."""
    from croniter import croniter

    found: set[datetime] = set()
    for expression in schedule.cron:
        it = croniter(expression, first - timedelta(microseconds=1))
        while True:
            fire: datetime = it.get_next(datetime)
            if fire > last:
                break
            found.add(fire)
            if len(found) > MAX_INTERVALS:
                raise ValueError(
                    f"more than {MAX_INTERVALS} runs in the range; backfill a shorter range"
                )
    return sorted(found)


def _previous_fire(schedule: Schedule, fire: datetime) -> datetime:
    return previous_fire_time(list(schedule.cron), fire)


def interval_ending_at(schedule: Schedule, fire: datetime) -> Interval:
    """The interval of the scheduled run at ``fire``: from the fire time before it to it.

    ``ferry serve`` gives each scheduled run this interval, the one a backfill of that
    day gives the same fire time, so a scheduled and a backfilled run read the same data.
    """
    local = fire.astimezone(ZoneInfo(schedule.timezone))
    return Interval(
        start=_previous_fire(schedule, local),
        end=local,
        run_date=local.astimezone(UTC).date().isoformat(),
    )


def fire_times_after(
    schedule: Schedule, after: datetime, until: datetime, limit: int = MAX_INTERVALS
) -> list[datetime]:
    """Fire times in ``(after, until]``, oldest first, in the schedule's zone; at most ``limit``.

    When more are due only the newest ``limit`` are returned: a server down for a year
    must not plan every minute of it.
    """
    from croniter import croniter

    zone = ZoneInfo(schedule.timezone)
    start, end = after.astimezone(zone), until.astimezone(zone)
    found: set[datetime] = set()
    for expression in schedule.cron:
        it = croniter(expression, end + timedelta(seconds=1))  # cron has minute resolution
        for _ in range(limit):
            fire: datetime = it.get_prev(datetime)
            if fire <= start:
                break
            if fire <= end:
                found.add(fire)
    return sorted(found)[-limit:]


def scheduled_intervals(schedule: Schedule, first_day: date, last_day: date) -> list[Interval]:
    """The intervals of the runs the schedule fires on ``first_day``..``last_day`` (its zone)."""
    zone = ZoneInfo(schedule.timezone)
    first = datetime.combine(first_day, time(0), zone)
    last = datetime.combine(last_day + timedelta(days=1), time(0), zone) - timedelta(microseconds=1)
    fires = _fire_times(schedule, first, last)
    intervals = []
    for index, fire in enumerate(fires):
        start = fires[index - 1] if index else _previous_fire(schedule, fire)
        intervals.append(
            Interval(start=start, end=fire, run_date=fire.astimezone(UTC).date().isoformat())
        )
    return intervals


def daily_intervals(first_day: date, last_day: date) -> list[Interval]:
    """One interval per UTC day, for a pipeline without a schedule."""
    days = (last_day - first_day).days + 1
    if days > MAX_INTERVALS:
        raise ValueError(f"more than {MAX_INTERVALS} runs in the range; backfill a shorter range")
    intervals = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start = datetime.combine(day, time(0), UTC)
        intervals.append(
            Interval(start=start, end=start + timedelta(days=1), run_date=day.isoformat())
        )
    return intervals


def intervals_between(schedule: Schedule | None, first_day: date, last_day: date) -> list[Interval]:
    """The intervals a backfill of ``first_day``..``last_day`` (inclusive) runs, oldest first."""
    if schedule is None:
        return daily_intervals(first_day, last_day)
    return scheduled_intervals(schedule, first_day, last_day)


def _transition_days(zone: ZoneInfo, first: date, days: int) -> list[date]:
    """Days in ``first .. first + days`` on which the zone's UTC offset changes."""
    found = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        start = datetime.combine(day, time(0), zone).utcoffset()
        end = datetime.combine(day, time(23, 59), zone).utcoffset()
        if start != end:
            found.append(day)
    return found


def dst_warnings(schedule: Schedule, first: date, days: int = 366) -> list[str]:
    """Fire times that do not exist or happen twice on the DST change days of the zone.

    Argo's cron scheduler skips a time that does not exist and may run a repeated one
    twice; a schedule in a zone with DST is safest outside the changed hour (or in UTC).
    """
    from croniter import croniter

    zone = ZoneInfo(schedule.timezone)
    warnings = []
    for day in _transition_days(zone, first, days):
        for expression in schedule.cron:
            it = croniter(expression, datetime.combine(day, time(0)) - timedelta(microseconds=1))
            while (wall := it.get_next(datetime)).date() == day:
                early = wall.replace(tzinfo=zone, fold=0)
                late = wall.replace(tzinfo=zone, fold=1)
                back = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
                if back != wall:
                    problem = "does not exist (clocks jump forward); Argo skips it"
                elif early.utcoffset() != late.utcoffset():
                    problem = "happens twice (clocks go back); Argo may run it twice"
                else:
                    continue
                warnings.append(
                    f"schedule {expression!r}: {wall:%Y-%m-%d %H:%M} in {schedule.timezone} "
                    f"{problem}; move it out of the changed hour or use timezone 'UTC'"
                )
    return warnings
