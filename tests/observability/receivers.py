"""Loopback receivers: an OTLP/HTTP trace collector and an OpenLineage consumer.

Both are real HTTP servers on 127.0.0.1 in a thread; the collector decodes the
protobuf export requests with the message classes of ``opentelemetry-proto``.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the collector got it."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    service_name: str


@dataclass
class Received:
    """What a receiver got: decoded bodies and their request headers."""

    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _spans(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        status_code=span.status.code,
                        status_message=span.status.message,
                        service_name=str(resource.get("service.name", "")),
                    )
                )
    return spans


def _handler(received: Received, decode: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if decode == "otlp":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                decoded: Any = _spans(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                content_type = "application/x-protobuf"
            else:
                decoded = json.loads(body)
                answer = b"{}"
                content_type = "application/json"
            with received.lock:
                received.bodies.append(decoded)
                received.headers.append(dict(self.headers.items()))
                received.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def _serve(received: Received, decode: str) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(received, decode))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def otlp_collector() -> Iterator[tuple[str, Received]]:
    """An OTLP/HTTP collector: its base URL and what it received (lists of spans)."""
    received = Received()
    with _serve(received, "otlp") as url:
        yield url, received


@contextmanager
def lineage_consumer() -> Iterator[tuple[str, Received]]:
    """An OpenLineage HTTP consumer: its base URL and the events it received."""
    received = Received()
    with _serve(received, "json") as url:
        yield url, received


def all_spans(received: Received) -> list[ReceivedSpan]:
    """Every span the collector got, over all export requests."""
    with received.lock:
        return [span for batch in received.bodies for span in batch]
