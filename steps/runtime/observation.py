"""What a step tells traces and lineage, in one object the harness drives.

:func:`observe` returns an observation whose parts are on only when configured
(``steps.runtime.telemetry_env``); with neither traces nor lineage it imports
nothing more and every call is a no-op, so a step's start-up stays as it was.

Traces: a ``ferry.step`` span, child of the runner's attempt span when
``TRACEPARENT`` is set, with the phases below it (``steps.runtime.phases``).
Lineage: START once the config is valid, then COMPLETE or FAIL
(``steps.runtime.lineage``), naming the datasets of :func:`_datasets`.
"""

from collections.abc import Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from steps.runtime.phases import NO_PHASES, Phases
from steps.runtime.telemetry_env import (
    attempt_number,
    lineage_enabled,
    tracing_enabled,
    tracing_problem,
    tracing_requested,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from steps.runtime.accounting import RowCounts
    from steps.runtime.context import StepContext
    from steps.runtime.lineage import DatasetFacts, LineageEmitter
    from steps.runtime.log import EventLog
    from steps.runtime.tracing import Tracing


class StepObservation:
    """The traces and lineage of one step attempt (each part None when it is off)."""

    def __init__(
        self,
        *,
        kind: str,
        tracing: "Tracing | None" = None,
        span: "Span | None" = None,
        lineage: "LineageEmitter | None" = None,
        tracing_off: str | None = None,
    ) -> None:
        self.kind = kind
        self._tracing_off = tracing_off
        self._tracing = tracing
        self._span = span
        self._lineage = lineage
        self._config: Any = None
        self.phases: Phases = NO_PHASES
        self.trace_id: str | None = None
        if tracing is not None and span is not None:
            from opentelemetry import context, trace

            from steps.runtime.tracing import SpanPhases, trace_id_of

            self._token = context.attach(trace.set_span_in_context(span))
            self.phases = SpanPhases(tracing.tracer)
            self.trace_id = trace_id_of(span)

    def started(self, ctx: "StepContext", config: Any) -> None:
        """The config is valid and the step begins: lineage START."""
        self._config = config
        if self._lineage is not None:
            inputs, outputs = _datasets(self.kind, ctx, config, done=False)
            self._post(ctx.log, self._lineage.event("START", inputs, outputs))

    def finished(self, ctx: "StepContext", counts: "RowCounts") -> None:
        """The step did its work: row counts on the span, lineage COMPLETE."""
        if self._span is not None:
            from steps.runtime.tracing import attributes, set_outcome

            self._span.set_attributes(
                attributes(
                    rows_in=counts.rows_in,
                    rows_out=counts.rows_out,
                    rows_rejected=counts.rows_rejected,
                    exit_code=0,
                )
            )
            set_outcome(self._span, None)
        if self._lineage is not None:
            inputs, outputs = _datasets(self.kind, ctx, self._config, done=True)
            for facts in outputs:
                facts.row_count = counts.rows_out
            self._post(ctx.log, self._lineage.event("COMPLETE", inputs, outputs))

    def failed(
        self, log: "EventLog", ctx: "StepContext | None", reason: str, exit_code: int
    ) -> None:
        """The step failed with ``reason``: the span marked failed, lineage FAIL."""
        if self._span is not None:
            from steps.runtime.tracing import attributes, set_outcome

            self._span.set_attributes(attributes(exit_code=exit_code))
            set_outcome(self._span, reason)
        if self._lineage is not None and ctx is not None and self._config is not None:
            inputs, outputs = _datasets(self.kind, ctx, self._config, done=False)
            self._post(log, self._lineage.event("FAIL", inputs, outputs, error=reason))

    def close(self, log: "EventLog") -> None:
        """End the step span and export it within the bound; say so when spans were lost."""
        if self._tracing_off is not None:
            log.event("tracing_not_started", level="warning", reason=self._tracing_off)
        if self._tracing is None or self._span is None:
            return
        from opentelemetry import context

        context.detach(self._token)
        self._span.end()
        lost = self._tracing.shutdown()
        if lost:
            log.event(
                "traces_not_exported",
                level="warning",
                spans=lost,
                reason="the OTLP endpoint did not accept them in time; the step is not affected",
            )

    def _post(self, log: "EventLog", document: Mapping[str, Any]) -> None:
        assert self._lineage is not None
        first = not self._lineage.problems
        problem = self._lineage.emit(document)
        if problem is not None and first:
            log.event(
                "lineage_not_sent",
                level="warning",
                event_type=document["eventType"],
                reason=f"{problem}; later lineage events of this step are skipped",
            )


def _columns(reader: Any) -> list[tuple[str, str]] | None:
    """The (name, type) columns of an artifact, or None when they cannot be read."""
    with suppress(Exception):
        return [(f.name, str(f.type)) for f in reader.schema]
    return None


def _datasets(
    kind: str, ctx: "StepContext", config: Any, *, done: bool
) -> tuple[list["DatasetFacts"], list["DatasetFacts"]]:
    """Inputs and outputs of the step: artifacts in the store and external sources/targets.

    Columns come from committed artifacts; an output's columns only once it is
    committed (``done``). A load target has its input artifact's columns.
    """
    from steps.runtime.artifacts import ArtifactReader
    from steps.runtime.lineage import DatasetFacts
    from steps.runtime.lineage_datasets import external_datasets, location_dataset

    inputs: list[DatasetFacts] = []
    for name, loc in sorted(ctx.inputs.items()):
        columns = None
        with suppress(Exception):
            columns = _columns(ArtifactReader(loc, name))
        inputs.append(DatasetFacts(location_dataset(loc.uri), columns))
    outputs: list[DatasetFacts] = []
    if ctx.output is not None:
        columns = None
        if done:
            with suppress(Exception):
                columns = _columns(ArtifactReader(ctx.output, ctx.step))
        outputs.append(DatasetFacts(location_dataset(ctx.output.uri), columns))
    try:
        sources, targets = external_datasets(kind, config)
    except Exception:  # a name Ferry cannot parse: the event still names the artifacts
        sources, targets = [], []
    loaded = inputs[0].columns if len(inputs) == 1 else None  # what a load step writes
    inputs += [DatasetFacts(d) for d in sources]
    outputs += [DatasetFacts(d, loaded) for d in targets]
    return inputs, outputs


def observe(
    *, pipeline: str, step: str, run_id: str, kind: str, environ: Mapping[str, str]
) -> StepObservation:
    """The observation of this step attempt, with traces and lineage as configured."""
    tracing = span = lineage = None
    attempt = attempt_number(environ)
    if tracing_enabled(environ):
        from steps.runtime.tracing import parent_context, process_tracing, start_span

        tracing = process_tracing(environ, run_id)
        span = start_span(
            tracing.tracer,
            "ferry.step",
            parent_context(environ),
            pipeline=pipeline,
            step=step,
            run_id=run_id,
            attempt=attempt,
            kind=kind,
        )
    if lineage_enabled(environ):
        from steps.runtime.lineage import LineageEmitter, LineageSettings

        lineage = LineageEmitter(
            LineageSettings.from_environ(environ), pipeline, step, run_id, attempt
        )
    tracing_off = tracing_problem(environ) if tracing_requested(environ) else None
    return StepObservation(
        kind=kind, tracing=tracing, span=span, lineage=lineage, tracing_off=tracing_off
    )
