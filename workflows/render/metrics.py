"""``metrics.prometheus`` of the rendered manifests: Argo's controller emits Ferry's metrics.

Argo evaluates a template's metrics when the step's node completes (and, with a
``retryStrategy``, when each failed attempt completes), substituting the metric
variables of docs/variables.md "Metrics": ``{{outputs.parameters.<name>}}``,
``{{duration}}`` and ``{{status}}`` of that node. Workflow-level metrics are evaluated
when the workflow completes, with ``{{workflow.duration}}`` and ``{{workflow.status}}``.
None is ``realtime``: a realtime gauge is dropped when the Workflow object is deleted
(``ttlStrategy``), a completed one stays until the controller's ``metricsTTL``.

Names, help texts and labels come from :mod:`workflows.monitoring.catalog`; the
controller prefixes every custom metric with ``argo_workflows_`` (docs/monitoring.md
shows the relabelling that strips it).
"""

from hera.workflows import Counter, Gauge, Label

from workflows.monitoring import catalog
from workflows.monitoring.catalog import MetricSpec

STEP_FAILED = "{{status}} == Failed || {{status}} == Error"
"""``when`` of the step failure counter: the node's phase (govaluate; bare words are strings)."""


def _labels(spec: MetricSpec, values: dict[str, str]) -> list[Label]:
    return [Label(key=key, value=values[key]) for key in spec.labels]


def _gauge(spec: MetricSpec, value: str, labels: dict[str, str]) -> Gauge:
    return Gauge(
        name=spec.name,
        help=spec.help,
        labels=_labels(spec, labels),
        realtime=False,
        value=value,
    )


def step_metrics(pipeline: str, step: str) -> list[Gauge | Counter]:
    """The metrics of one step's container template."""
    labels = {"pipeline": pipeline, "step": step}
    metrics: list[Gauge | Counter] = [
        _gauge(spec, "{{outputs.parameters." + parameter + "}}", labels)
        for spec, parameter in catalog.STEP_GAUGES
    ]
    metrics.append(_gauge(catalog.STEP_DURATION_SECONDS, "{{duration}}", labels))
    spec = catalog.STEP_FAILURES_TOTAL
    metrics.append(
        Counter(
            name=spec.name,
            help=spec.help,
            labels=_labels(spec, labels),
            when=STEP_FAILED,
            value="1",
        )
    )
    return metrics


def workflow_metrics(pipeline: str) -> list[Gauge | Counter]:
    """The metrics of the whole workflow (``spec.metrics``)."""
    runs = catalog.RUNS_TOTAL
    return [
        _gauge(catalog.RUN_DURATION_SECONDS, "{{workflow.duration}}", {"pipeline": pipeline}),
        Counter(
            name=runs.name,
            help=runs.help,
            labels=_labels(runs, {"pipeline": pipeline, "status": "{{workflow.status}}"}),
            value="1",
        ),
    ]
