"""Every Ferry metric, defined once: name, type, labels, help text and where it is emitted.

Names follow Prometheus conventions (DESIGN.md): the ``ferry_`` prefix, base units in
the name (``_seconds``, rows), ``_total`` on counters. Argo requires that a metric
name always comes with the same help text, so the help text here is the one both the
rendered manifests and ``ferry metrics`` use, word for word.
"""

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: what Prometheus sees, and where Ferry emits it."""

    name: str
    """Full metric name as scraped (``ferry_...``; a counter ends in ``_total``)."""
    type: MetricType
    """``gauge`` (last value) or ``counter`` (only goes up)."""
    labels: tuple[str, ...]
    """Label names, in the order they are written."""
    help: str
    """The ``# HELP`` text; identical on the cluster and locally."""
    cluster: bool = True
    """Rendered into the manifests as ``metrics.prometheus`` (else local only)."""


STEP_ROWS_IN = MetricSpec(
    "ferry_step_rows_in",
    "gauge",
    ("pipeline", "step"),
    "Rows the step read in its latest finished run (output parameter rows_in).",
)
STEP_ROWS_OUT = MetricSpec(
    "ferry_step_rows_out",
    "gauge",
    ("pipeline", "step"),
    "Rows the step passed on in its latest finished run (output parameter rows_out).",
)
STEP_ROWS_REJECTED = MetricSpec(
    "ferry_step_rows_rejected",
    "gauge",
    ("pipeline", "step"),
    "Rows the step quarantined in its latest finished run (output parameter rows_rejected).",
)
STEP_QUALITY_SCORE = MetricSpec(
    "ferry_step_quality_score",
    "gauge",
    ("pipeline", "step"),
    "rows_out / rows_in of the step's latest finished run, 0 to 1 (output quality_score).",
)
STEP_DURATION_SECONDS = MetricSpec(
    "ferry_step_duration_seconds",
    "gauge",
    ("pipeline", "step"),
    "Wall time of the step's latest finished run, retries included, in seconds.",
)
STEP_FAILURES_TOTAL = MetricSpec(
    "ferry_step_failures_total",
    "counter",
    ("pipeline", "step"),
    "Failed attempts of the step (phase Failed or Error), retried attempts included.",
)
RUN_DURATION_SECONDS = MetricSpec(
    "ferry_run_duration_seconds",
    "gauge",
    ("pipeline",),
    "Wall time of the pipeline's latest finished run, in seconds.",
)
RUNS_TOTAL = MetricSpec(
    "ferry_runs_total",
    "counter",
    ("pipeline", "status"),
    "Finished runs of the pipeline by final status (Succeeded, Failed, Error).",
)
RUN_LAST_SUCCESS_TIMESTAMP_SECONDS = MetricSpec(
    "ferry_run_last_success_timestamp_seconds",
    "gauge",
    ("pipeline",),
    "When the pipeline's latest successful run finished, in Unix seconds.",
    cluster=False,
)

STEP_GAUGES: tuple[tuple[MetricSpec, str], ...] = (
    (STEP_ROWS_IN, "rows_in"),
    (STEP_ROWS_OUT, "rows_out"),
    (STEP_ROWS_REJECTED, "rows_rejected"),
    (STEP_QUALITY_SCORE, "quality_score"),
)
"""The step gauges read from an output parameter, with that parameter's name."""

CATALOG: tuple[MetricSpec, ...] = (
    STEP_ROWS_IN,
    STEP_ROWS_OUT,
    STEP_ROWS_REJECTED,
    STEP_QUALITY_SCORE,
    STEP_DURATION_SECONDS,
    STEP_FAILURES_TOTAL,
    RUN_DURATION_SECONDS,
    RUNS_TOTAL,
    RUN_LAST_SUCCESS_TIMESTAMP_SECONDS,
)
"""Every metric, in the order ``ferry metrics`` prints them."""
