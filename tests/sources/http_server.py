"""A scripted HTTP server on loopback for source tests: real sockets, no mocks.

Routes map a path to a handler that gets the request and returns a :class:`Reply`;
:func:`script` builds a handler answering with a fixed sequence. Every request is
recorded so tests can check what the client sent (query, headers, body).
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What to answer: status, JSON (or raw bytes), headers, and a delay before answering."""

    status: int = 200
    json: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"
    drop: str | None = None
    """``"before"``: close the connection without answering; ``"mid_body"``: send the
    headers and half the body, then close."""


Handler = Callable[[Received], Reply]


def script(*replies: Reply) -> Handler:
    """A handler answering with ``replies`` in turn, repeating the last one."""
    state = {"n": 0}
    lock = threading.Lock()

    def handle(_: Received) -> Reply:
        with lock:
            index = min(state["n"], len(replies) - 1)
            state["n"] += 1
        return replies[index]

    return handle


class ScriptedServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with routes and a request log."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, routes: dict[str, Handler]) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.routes = routes
        self.received: list[Received] = []
        host, port = self.socket.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path


class _RequestHandler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Received(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k: v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        self.server.received.append(request)
        handler = self.server.routes.get(parts.path)
        reply = handler(request) if handler else Reply(404, {"error": "no such route"})
        if reply.delay_s:
            time.sleep(reply.delay_s)
        body = reply.raw if reply.raw is not None else json.dumps(reply.json).encode()
        if reply.drop == "before":
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.drop == "mid_body":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return

    do_GET = _handle
    do_POST = _handle


@contextmanager
def serve(routes: dict[str, Handler]) -> Iterator[ScriptedServer]:
    """Run a :class:`ScriptedServer` in a thread for the duration of the block."""
    server = ScriptedServer(routes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
