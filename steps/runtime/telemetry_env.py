"""Whether traces and lineage are on, read from the environment without importing either.

A step starts as a fresh process for every attempt, so its start-up is paid many times
a run. This module is all a step imports when neither traces nor lineage are
configured: the OpenTelemetry SDK and the lineage client load only when asked for.
"""

from collections.abc import Mapping

TRACEPARENT_ENV = "TRACEPARENT"
"""W3C trace context of the parent span, as the OpenTelemetry environment carrier names it."""

TRACESTATE_ENV = "TRACESTATE"
"""W3C trace state that goes with ``TRACEPARENT``."""

ATTEMPT_ENV = "FERRY_ATTEMPT"
"""The attempt of the step, 0 for the first one (Argo's ``{{retries}}``)."""

_ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """Traces are exported: an OTLP endpoint is set and neither the SDK nor traces are off.

    ``OTEL_SDK_DISABLED=true`` and ``OTEL_TRACES_EXPORTER=none`` turn tracing off as the
    OpenTelemetry specification defines them; so does a setting Ferry cannot honour
    (:func:`tracing_problem`).
    """
    return tracing_requested(environ) and tracing_problem(environ) is None


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """An OTLP endpoint is set and ``OTEL_SDK_DISABLED``/``OTEL_TRACES_EXPORTER`` allow traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in _ENDPOINT_ENVS)


def tracing_problem(environ: Mapping[str, str]) -> str | None:
    """Why tracing cannot be done as configured, in one line, or None.

    Ferry exports with OTLP over HTTP (protobuf) only: another exporter or protocol
    would send nowhere, so tracing stays off and the step or run says why.
    """
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter not in ("", "otlp", "none"):
        return (
            f"OTEL_TRACES_EXPORTER={exporter} is not supported, tracing is off; "
            "Ferry exports traces with otlp (or set none)"
        )
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = environ.get(name, "").strip().lower()
        if protocol:
            if protocol != "http/protobuf":
                return (
                    f"{name}={protocol} is not supported, tracing is off; Ferry exports "
                    "OTLP over http/protobuf (port 4318 of a collector)"
                )
            break
    return None


def lineage_enabled(environ: Mapping[str, str]) -> bool:
    """Lineage is posted: ``OPENLINEAGE_URL`` is set and ``OPENLINEAGE_DISABLED`` is not true."""
    if environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    return bool(environ.get("OPENLINEAGE_URL", "").strip())


def attempt_number(environ: Mapping[str, str]) -> int:
    """The step's attempt from ``FERRY_ATTEMPT`` (0 when unset or not a number)."""
    text = environ.get(ATTEMPT_ENV, "").strip()
    return int(text) if text.isdigit() else 0
