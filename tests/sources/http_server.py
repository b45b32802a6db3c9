"""A scripted HTTP server on loopback for source tests: real sockets, no mocks.

Routes map a path to a handler that gets the request and returns a :class:`Reply`;
:func:`script` builds a handler answering with a fixed sequence. Every request is
recorded so tests can check what the client sent (query, headers, body).

Misbehaving servers for the bounds tests are replies too: ``drip_s`` sends one byte
at a time (body, or headers and body), ``stream`` sends a long body produced chunk by
chunk, ``gzip`` compresses the body. Every reply ends by itself: a dripping or
streaming handler stops when the client goes away and after ``MAX_REPLY_S`` at most.
"""

import gzip as gzip_module
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
    drip_s: float | None = None
    """Send the body one byte at a time, this long apart."""
    drip_headers: bool = False
    """With ``drip_s``: drip the status line and headers too."""
    stream: Callable[[], Iterable[bytes]] | None = None
    """Produce the body chunk by chunk (instead of ``json``/``raw``), sent without a
    Content-Length unless ``headers`` gives one."""
    gzip: bool = False
    """Compress the body with gzip and say so in Content-Encoding."""


MAX_REPLY_S = 30.0
"""No reply is sent for longer than this, whatever the client does."""


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
        if reply.drop == "before":
            self.close_connection = True
            return
        try:
            self._reply(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return

    def _reply(self, reply: Reply) -> None:
        chunks: Iterable[bytes]
        headers = {"Content-Type": reply.content_type}
        if reply.stream is not None:
            chunks = reply.stream()
            self.close_connection = True
        else:
            body = reply.raw if reply.raw is not None else json.dumps(reply.json).encode()
            if reply.gzip:
                body = gzip_module.compress(body)
                headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(body))
            chunks = [body]
        headers.update(reply.headers)
        head = f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if reply.stream is not None:
            head += "Connection: close\r\n"
        head += "\r\n"
        started = time.monotonic()
        if reply.drip_s is not None and reply.drip_headers:
            self._drip(head.encode("latin-1"), reply.drip_s, started)
        else:
            self.wfile.write(head.encode("latin-1"))
        if reply.drop == "mid_body":
            [body] = chunks
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        for chunk in chunks:
            if time.monotonic() - started > MAX_REPLY_S:
                self.close_connection = True
                return
            if reply.drip_s is not None:
                self._drip(chunk, reply.drip_s, started)
            else:
                self.wfile.write(chunk)
        self.wfile.flush()

    def _drip(self, data: bytes, every_s: float, started: float) -> None:
        for i in range(len(data)):
            if time.monotonic() - started > MAX_REPLY_S:
                raise BrokenPipeError("reply took longer than MAX_REPLY_S")
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(every_s)

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
