"""OpenTelemetry traces of the runner and the steps, exported over OTLP/HTTP (protobuf).

Imported only when :func:`steps.runtime.telemetry_env.tracing_enabled` says so: the
SDK and the exporter cost a step tens of milliseconds of start-up. One tracer provider
per process, set as OpenTelemetry's global one so every span of the process shares it;
the standard ``OTEL_*`` variables configure it (endpoint, headers, sampler, batch
processor, resource attributes), with the service name ``ferry`` unless
``OTEL_SERVICE_NAME`` (or ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``) says
otherwise.

Exporting never fails a run or a step, and it is bounded: each export gives up after
the OTLP timeout (``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` or
``OTEL_EXPORTER_OTLP_TIMEOUT``, Ferry's default :data:`DEFAULT_EXPORT_TIMEOUT_S`
seconds), and the SDK's own log lines are silenced so that they cannot become a
step's failure reason (its last stderr line); :meth:`Tracing.flush` returns how many
spans were lost instead.
"""

import hashlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from steps.runtime.phases import Attribute, PhaseSpan
from steps.runtime.telemetry_env import TRACEPARENT_ENV, TRACESTATE_ENV

DEFAULT_SERVICE_NAME = "ferry"
"""``service.name`` of every span unless the environment names another."""

DEFAULT_EXPORT_TIMEOUT_S = 3.0
"""Bound of one export when neither OTLP timeout variable is set (the SDK's is 10 s)."""

INSTRUMENTATION = "ferry"
"""Name of Ferry's tracer (the instrumentation scope of its spans)."""

_TIMEOUT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
_PROPAGATOR = TraceContextTextMapPropagator()
_ROW_ATTRIBUTES = {
    "rows_in": "ferry.rows.in",
    "rows_out": "ferry.rows.out",
    "rows_rejected": "ferry.rows.rejected",
}


def attribute_name(key: str) -> str:
    """Attribute name of a keyword: ``rows_out`` is ``ferry.rows.out``, ``step`` ``ferry.step``."""
    return _ROW_ATTRIBUTES.get(key, f"ferry.{key}")


def attributes(**values: Attribute | None) -> dict[str, Attribute]:
    """Span attributes from keywords, named by :func:`attribute_name`; ``None`` values left out."""
    return {attribute_name(k): v for k, v in values.items() if v is not None}


class _AccountingExporter(SpanExporter):
    """The OTLP exporter, counting the spans it could not deliver (it never raises)."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner
        self.lost = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception:  # an exporter bug must not reach the run
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.lost += len(spans)
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def _resource() -> Resource:
    resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    name = str(resource.attributes.get(SERVICE_NAME, ""))
    if not name or name.startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def export_timeout(environ: Mapping[str, str]) -> float:
    """Seconds one export may take: the OTLP timeout variable that is set, else Ferry's default."""
    for name in _TIMEOUT_ENVS:
        try:
            seconds = float(environ.get(name, "").strip())
        except ValueError:
            continue
        if seconds > 0:
            return seconds
    return DEFAULT_EXPORT_TIMEOUT_S


class RunTraceIds(RandomIdGenerator):
    """A trace id derived from the run id for spans without a parent.

    On Argo no runner hands a step ``TRACEPARENT``; deriving the trace id from the
    workflow name still puts every step of one workflow (and each of its attempts)
    in one trace, and ratio sampling, which looks at the trace id, keeps or drops
    them together. Span ids stay random.
    """

    def __init__(self, run_id: str) -> None:
        digest = hashlib.sha256(f"ferry-trace/{run_id}".encode()).digest()
        self._trace_id = int.from_bytes(digest[:16], "big") or 1

    def generate_trace_id(self) -> int:
        """The run's trace id (the same for every span that starts a trace here)."""
        return self._trace_id


class Tracing:
    """This process's tracer provider and its OTLP exporter."""

    def __init__(self, environ: Mapping[str, str], run_id: str | None = None) -> None:
        quiet = logging.getLogger("opentelemetry")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        self.timeout_s = export_timeout(environ)
        self._exporter = _AccountingExporter(OTLPSpanExporter(timeout=self.timeout_s))
        ids = RunTraceIds(run_id) if run_id is not None else None
        self.provider = TracerProvider(resource=_resource(), id_generator=ids)
        self.provider.add_span_processor(BatchSpanProcessor(self._exporter))
        trace.set_tracer_provider(self.provider)
        self.tracer = self.provider.get_tracer(INSTRUMENTATION)

    def flush(self) -> int:
        """Export what is pending, within the bound; return the spans lost so far."""
        self.provider.force_flush(int(self.timeout_s * 1000) + 500)
        return self._exporter.lost

    def shutdown(self) -> int:
        """Flush, stop the exporter; return the spans lost. A step calls it as it ends."""
        lost = self.flush()
        self.provider.shutdown()
        return max(lost, self._exporter.lost)


_LOCK = threading.Lock()
_TRACING: Tracing | None = None


def process_tracing(environ: Mapping[str, str], run_id: str | None = None) -> Tracing:
    """The process's :class:`Tracing`, created on first use (the global provider is set once).

    A step passes its ``run_id`` (see :class:`RunTraceIds`); the runner, which may run
    several runs in one process, does not.
    """
    global _TRACING
    with _LOCK:
        if _TRACING is None:
            _TRACING = Tracing(environ, run_id)
        return _TRACING


def parent_context(environ: Mapping[str, str]) -> Context | None:
    """The span context ``TRACEPARENT``/``TRACESTATE`` carry, or None without ``TRACEPARENT``."""
    parent = environ.get(TRACEPARENT_ENV, "").strip()
    if not parent:
        return None
    carrier = {"traceparent": parent}
    state = environ.get(TRACESTATE_ENV, "").strip()
    if state:
        carrier["tracestate"] = state
    return _PROPAGATOR.extract(carrier)


def child_environment(span: Span) -> dict[str, str]:
    """``TRACEPARENT`` (and ``TRACESTATE``) making a child process's spans children of ``span``."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    env = {TRACEPARENT_ENV: carrier["traceparent"]} if "traceparent" in carrier else {}
    if carrier.get("tracestate"):
        env[TRACESTATE_ENV] = carrier["tracestate"]
    return env


def trace_id_of(span: Span) -> str:
    """The span's trace id as 32 hex digits (as log lines carry it)."""
    return trace.format_trace_id(span.get_span_context().trace_id)


def set_outcome(span: Span, error: str | None) -> None:
    """Mark ``span`` failed with the one-line ``error``, or OK without one."""
    if error:
        span.set_status(Status(StatusCode.ERROR, error))
    else:
        span.set_status(Status(StatusCode.OK))


class _PhaseSpan:
    def __init__(self, span: Span) -> None:
        self._span = span

    def set(self, **values: Attribute) -> None:
        self._span.set_attributes(attributes(**values))


class SpanPhases:
    """Phases as child spans of the current span (``ferry.read``, ``ferry.compute``, ...)."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    @contextmanager
    def phase(self, name: str, **values: Attribute) -> Iterator[PhaseSpan]:
        """A span ``ferry.<name>``; an exception leaving it marks it failed."""
        with self._tracer.start_as_current_span(
            f"ferry.{name}", attributes=attributes(**values)
        ) as span:
            yield _PhaseSpan(span)


def start_span(tracer: trace.Tracer, name: str, parent: Context | None, **values: Any) -> Span:
    """A span under ``parent`` (a new trace without one), with Ferry's attributes."""
    return tracer.start_span(name, context=parent, attributes=attributes(**values))
