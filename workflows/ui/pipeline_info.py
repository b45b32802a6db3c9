"""What the pipelines page says of each definition: schedule, next run, triggers, final steps."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from workflows.discovery import FoundPipeline
from workflows.pipeline import Pipeline, Schedule


@dataclass(frozen=True)
class PipelineInfo:
    """One defined pipeline as the pipelines page lists it."""

    name: str
    file: str
    schedule: str | None
    """The cron expressions and their timezone, e.g. ``0 3 * * * (Europe/Berlin)``."""
    next_run: datetime | None
    """The next fire time of the schedule (UTC), None without one or while suspended."""
    suspended: bool
    triggers: list[str]
    params: dict[str, str]
    """The pipeline's own parameters and their defaults, offered by the run-now form."""


def next_fire(schedule: Schedule, now: datetime) -> datetime | None:
    """The earliest next fire time of any of the schedule's cron expressions, in UTC."""
    if schedule.suspend:
        return None
    local = now.astimezone(ZoneInfo(schedule.timezone))
    fires = [croniter(cron, local).get_next(datetime) for cron in schedule.cron]
    return min(fires).astimezone(UTC) if fires else None


def describe_trigger(trigger: object) -> str:
    """One line naming what starts a run: the event discriminator or the bucket and keys."""
    kind = getattr(trigger, "kind", type(trigger).__name__)
    if kind == "event":
        selector = getattr(trigger, "selector", None)
        text = f"event {getattr(trigger, 'discriminator', '')}"
        return f"{text} when {selector}" if selector else text
    if kind == "object-arrival":
        bucket = getattr(trigger, "bucket", "")
        prefix = getattr(trigger, "prefix", "")
        suffix = getattr(trigger, "suffix", "")
        return f"object arrival in s3://{bucket}/{prefix}*{suffix}"
    dump = getattr(trigger, "model_dump", None)
    fields = dump(mode="json", exclude_defaults=True) if callable(dump) else {}
    details = ", ".join(f"{k}={v}" for k, v in fields.items() if k != "kind")
    return f"{kind} {details}".strip()


def final_steps(pipeline: Pipeline) -> frozenset[str]:
    """The steps no other step reads: what the pipeline delivers."""
    graph = pipeline.graph()
    read = {upstream for ups in graph.values() for upstream in ups}
    return frozenset(name for name in graph if name not in read)


def pipeline_info(found: FoundPipeline, now: datetime) -> PipelineInfo:
    """The pipelines page's view of one definition."""
    pipeline = found.pipeline
    schedule = pipeline.schedule
    text = None
    if schedule is not None:
        text = f"{', '.join(schedule.cron)} ({schedule.timezone})"
    return PipelineInfo(
        name=pipeline.name,
        file=str(found.file),
        schedule=text,
        next_run=next_fire(schedule, now) if schedule else None,
        suspended=bool(schedule and schedule.suspend),
        triggers=[describe_trigger(t) for t in pipeline.triggers],
        params=dict(pipeline.params),
    )
