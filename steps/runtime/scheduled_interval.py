"""A CronWorkflow run's data interval, worked out by the step from its scheduled time.

Locally a scheduled run (``ferry serve``) and a backfill pass ``interval_start`` and
``interval_end`` as workflow parameters. A CronWorkflow on the cluster cannot: Argo
creates the run with the WorkflowTemplate's defaults, and the only trace of its fire
time is ``{{workflow.scheduledTime}}`` (a workflow argument that refers to it stays
unresolved in ``workflow.parameters.*``). So a step of a scheduled pipeline that uses
the interval also gets that time and the schedule (``FERRY_SCHEDULED_TIME``,
``FERRY_SCHEDULE``), and when the interval parameters are empty it fills them in as
``workflows.intervals`` defines the interval: ``[previous fire time, fire time)``, both
in the schedule's timezone. A run that no schedule started has no scheduled time
(Argo leaves the tag as written, the local runner gives ``""``), so nothing is filled.
"""

import json
from collections.abc import MutableMapping
from datetime import datetime
from zoneinfo import ZoneInfo

from steps.runtime.errors import StepUsageError
from steps.runtime.parameters import env_name

SCHEDULE_ENV = "FERRY_SCHEDULE"
"""The pipeline's schedule as JSON: ``{"cron": [...], "timezone": "Europe/Berlin"}``."""

SCHEDULED_TIME_ENV = "FERRY_SCHEDULED_TIME"
"""Argo's ``{{workflow.scheduledTime}}`` (RFC 3339) for a run a CronWorkflow started."""

_START, _END = env_name("interval_start"), env_name("interval_end")


def fill_scheduled_interval(environ: MutableMapping[str, str]) -> None:
    """Set the interval parameters from the scheduled time when they are empty.

    Raises:
        StepUsageError: ``FERRY_SCHEDULE`` or the scheduled time cannot be read (exit 2).
    """
    scheduled = environ.get(SCHEDULED_TIME_ENV, "").strip()
    if not scheduled or scheduled.startswith("{{"):
        return
    if environ.get(_START, "").strip() or environ.get(_END, "").strip():
        return
    try:
        schedule = json.loads(environ[SCHEDULE_ENV])
        zone = ZoneInfo(schedule["timezone"])
        fire = datetime.fromisoformat(scheduled.replace("Z", "+00:00")).astimezone(zone)
        cron = [str(e) for e in schedule["cron"]]
    except (KeyError, TypeError, ValueError) as err:
        raise StepUsageError(
            f"cannot work out the run's interval from {SCHEDULED_TIME_ENV}={scheduled!r} and "
            f"{SCHEDULE_ENV}: {err}; render the pipeline again with ferry render"
        ) from None
    environ[_START] = previous_fire_time(cron, fire).isoformat()
    environ[_END] = fire.isoformat()


def previous_fire_time(cron: list[str], fire: datetime) -> datetime:
    """The latest fire time of any expression before ``fire`` (in ``fire``'s zone).

    A wall time that happens twice (clocks going back) is read as its first occurrence,
    as stepping forward through a schedule reads it, so an interval is the same whether
    it is worked out from the run before it or from its own fire time.
    """
    from croniter import croniter

    return max(croniter(e, fire).get_prev(datetime) for e in cron).replace(fold=0)
