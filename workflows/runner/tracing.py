"""The runner's spans: ``ferry.run`` for a run, ``ferry.attempt`` for each step attempt.

The steps' own spans join them: each attempt's process gets ``TRACEPARENT`` (and
``TRACESTATE``) naming its attempt span, so one run is one trace. With tracing off
(``steps.runtime.telemetry_env.tracing_enabled``) nothing is imported and the step
environment is only given ``FERRY_ATTEMPT``.
"""

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from steps.runtime.telemetry_env import (
    ATTEMPT_ENV,
    tracing_enabled,
    tracing_problem,
    tracing_requested,
)
from workflows.runner.record import RunRecord, RunStatus

if TYPE_CHECKING:
    from opentelemetry.trace import Span


@dataclass(frozen=True)
class AttemptIdentity:
    """Which attempt of which step of which run an attempt is."""

    pipeline: str
    run_id: str
    step: str
    attempt: int
    """0 for the first attempt, as Argo's ``{{retries}}``."""


@contextmanager
def traced_run(record: RunRecord, environ: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """A ``ferry.run`` span around the run; yields what the steps' environment needs.

    The span ends with the record's final status (an error status with its message
    when the run did not succeed); the spans are then exported within the bound, and a
    loss is one warning line on stderr, never a failed run.
    """
    if not tracing_enabled(environ):
        problem = tracing_problem(environ) if tracing_requested(environ) else None
        if problem is not None:
            print(f"ferry: warning: {problem}", file=sys.stderr)
        yield {}
        return
    from steps.runtime.tracing import (
        child_environment,
        parent_context,
        process_tracing,
        set_outcome,
        start_span,
    )

    tracing = process_tracing(environ)
    span = start_span(
        tracing.tracer,
        "ferry.run",
        parent_context(environ),
        pipeline=record.pipeline,
        run_id=record.run_id,
        source=record.source,
    )
    try:
        yield child_environment(span)
    finally:
        span.set_attribute("ferry.status", record.status.value)
        failed = record.status is not RunStatus.SUCCEEDED
        set_outcome(span, (record.message or record.status.value) if failed else None)
        span.end()
        lost = tracing.flush()
        if lost:
            print(
                f"ferry: {lost} spans were not accepted by the OTLP endpoint in time "
                "(the run is not affected); check OTEL_EXPORTER_OTLP_ENDPOINT",
                file=sys.stderr,
            )


class AttemptTrace:
    """An attempt's environment and, with tracing on, its ``ferry.attempt`` span."""

    def __init__(self, env: dict[str, str], span: "Span | None" = None) -> None:
        self.env = env
        self._span = span

    def ended(self, phase: str, exit_code: int | None, reason: str) -> None:
        """Record how the attempt ended and end its span."""
        if self._span is None:
            return
        from steps.runtime.tracing import attributes, set_outcome

        self._span.set_attributes(attributes(status=phase, exit_code=exit_code))
        set_outcome(self._span, reason if phase != "Succeeded" else None)
        self._span.end()


def trace_attempt(env: Mapping[str, str], identity: AttemptIdentity | None) -> AttemptTrace:
    """Start tracing one attempt: ``FERRY_ATTEMPT`` always, a span when tracing is on.

    The span's parent is the run span named by ``TRACEPARENT`` in ``env``; the step's
    environment then names the attempt span instead.
    """
    child = dict(env)
    if identity is None:
        return AttemptTrace(child)
    child[ATTEMPT_ENV] = str(identity.attempt)
    if not tracing_enabled(env):
        return AttemptTrace(child)
    from steps.runtime.tracing import child_environment, parent_context, process_tracing, start_span

    span = start_span(
        process_tracing(env).tracer,
        "ferry.attempt",
        parent_context(env),
        pipeline=identity.pipeline,
        run_id=identity.run_id,
        step=identity.step,
        attempt=identity.attempt,
    )
    child.update(child_environment(span))
    return AttemptTrace(child, span)
