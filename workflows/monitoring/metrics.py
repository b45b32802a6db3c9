"""Ferry's metrics computed from the local run records, in Prometheus text format.

The same names, help texts and labels as on the cluster (:mod:`.catalog`), with the
cluster's meaning carried over to run records:

- step gauges (rows, quality score, duration) come from the newest run in which the
  step finished (Succeeded, Failed or Error), as Argo's gauges hold the value of the
  step's latest completion; a step that was Omitted or is still running keeps the
  value of the run before;
- ``ferry_run_duration_seconds`` is the newest finished run's wall time (a gauge of the
  last run, not a histogram, as on the cluster);
- counters total every run in the store: ``ferry_runs_total`` counts finished runs by
  status (``Abandoned`` too, which only the local runner knows), and
  ``ferry_step_failures_total`` counts failed attempts, the one that ended the step
  and the retried ones (a step that succeeded on attempt 3 failed twice);
- ``ferry_run_last_success_timestamp_seconds`` is when the newest successful run
  finished (local only; absent for a pipeline that never succeeded).

:func:`samples` computes, :func:`exposition` formats; a ``/metrics`` endpoint serves
``exposition(samples(read_runs(store).records))``.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from workflows.monitoring import catalog
from workflows.monitoring.catalog import CATALOG, MetricSpec
from workflows.runner.record import RunRecord, RunStatus, TaskRecord, TaskStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The HTTP content type of :func:`exposition`'s output."""

FINISHED_TASK = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.ERROR})
FAILED_TASK = frozenset({TaskStatus.FAILED, TaskStatus.ERROR})


@dataclass(frozen=True)
class Sample:
    """One sample: a metric, its label values (in the metric's label order), its value."""

    metric: MetricSpec
    labels: tuple[str, ...]
    value: float


def samples(records: Iterable[RunRecord]) -> list[Sample]:
    """Every sample the run records give, grouped by metric in catalog order.

    ``records`` may come in any order; a ``Running`` record adds nothing.
    """
    finished = sorted(
        (r for r in records if r.status is not RunStatus.RUNNING),
        key=lambda r: r.started,
        reverse=True,
    )
    found: dict[str, dict[tuple[str, ...], float]] = {spec.name: {} for spec in CATALOG}

    def put(spec: MetricSpec, labels: tuple[str, ...], value: float) -> None:
        found[spec.name].setdefault(labels, value)

    def add(spec: MetricSpec, labels: tuple[str, ...], value: float) -> None:
        found[spec.name][labels] = found[spec.name].get(labels, 0.0) + value

    for record in finished:  # newest first: put() keeps the newest value
        pipeline = record.pipeline
        if record.duration_seconds is not None:
            put(catalog.RUN_DURATION_SECONDS, (pipeline,), record.duration_seconds)
        add(catalog.RUNS_TOTAL, (pipeline, record.status.value), 1)
        if record.status is RunStatus.SUCCEEDED and record.finished is not None:
            put(
                catalog.RUN_LAST_SUCCESS_TIMESTAMP_SECONDS,
                (pipeline,),
                record.finished.timestamp(),
            )
        for task in record.tasks:
            labels = (pipeline, task.name)
            if task.status not in FINISHED_TASK:
                continue
            for spec, parameter in catalog.STEP_GAUGES:
                value = _parameter(task, parameter)
                if value is not None:
                    put(spec, labels, value)
            if task.duration_seconds is not None:
                put(catalog.STEP_DURATION_SECONDS, labels, task.duration_seconds)
            add(catalog.STEP_FAILURES_TOTAL, labels, failed_attempts(task))
    return [
        Sample(spec, labels, value)
        for spec in CATALOG
        for labels, value in sorted(found[spec.name].items())
    ]


def failed_attempts(task: TaskRecord) -> int:
    """How many attempts of a finished task failed: all of a failed one, all but the last else."""
    if task.status in FAILED_TASK:
        return max(task.attempts, 1)
    return max(task.attempts - 1, 0)


def _parameter(task: TaskRecord, name: str) -> float | None:
    value = getattr(task, name)
    if value is None:
        text = task.outputs.get(name)
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None
    return float(value)


def exposition(found: Iterable[Sample]) -> str:
    """``found`` in the Prometheus text exposition format (0.0.4), one family per metric.

    Every metric of the catalog gets its ``# HELP`` and ``# TYPE`` lines, even without
    samples, so a scraper always sees the same set of families.
    """
    by_metric: dict[str, list[Sample]] = {spec.name: [] for spec in CATALOG}
    for sample in found:
        by_metric[sample.metric.name].append(sample)
    lines: list[str] = []
    for spec in CATALOG:
        lines.append(f"# HELP {spec.name} {_escape_help(spec.help)}")
        lines.append(f"# TYPE {spec.name} {spec.type}")
        for sample in by_metric[spec.name]:
            labels = ",".join(
                f'{key}="{_escape_label(value)}"'
                for key, value in zip(spec.labels, sample.labels, strict=True)
            )
            lines.append(f"{spec.name}{{{labels}}} {_format_value(sample.value)}")
    return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
