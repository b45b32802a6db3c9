"""The bounded parts of one HTTP exchange: a deadline over all of it, a cap on the body.

``urllib`` bounds each socket operation (``timeout_s``) but not their sum: a server
that sends one byte a second never trips a per-read timeout and holds the step for
ever. :class:`Deadline` arms one timer per request (connect, TLS handshake, proxy
tunnel, status line, headers and body); when it fires it shuts the connection's
socket down, so whichever read is blocked returns at once. Name resolution happens
before there is a socket and stays bounded by the system resolver.

:func:`read_body` reads the body in chunks and never more than ``cap + 1`` bytes,
decoding ``Content-Encoding: gzip`` / ``deflate`` as it goes with the same cap on the
decoded bytes, so neither a huge body nor a gzip bomb can grow the step's memory.
The caller turns :class:`BodyTooLarge` into a message naming the URL and the setting.
"""

import contextlib
import socket
import threading
import zlib
from http.client import HTTPConnection, HTTPSConnection
from types import TracebackType
from typing import Any, Protocol
from urllib.request import (
    BaseHandler,
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    build_opener,
)

CHUNK = 64 * 1024
ENCODINGS = ("gzip", "x-gzip", "deflate")


class Readable(Protocol):
    """What :func:`read_body` needs of a response: ``read(n)``."""

    def read(self, amt: int, /) -> bytes:
        """Up to ``amt`` bytes; ``b""`` at the end."""
        ...


class Deadline:
    """A bound on the wall time of one request, enforced by shutting its sockets down.

    Use as a context manager around the whole exchange. Sockets opened through
    :meth:`create_connection` are registered (as a duplicate descriptor, so the
    shutdown still reaches them after TLS has wrapped the original); at expiry they
    are shut down and :attr:`expired` is set. Leaving the block cancels the timer,
    closes the duplicates and joins the timer's thread.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()
        self._timer.join()  # cancelled, it ends at once; no thread outlives the request

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def create_connection(self, *args: Any, **kwargs: Any) -> socket.socket:
        """``socket.create_connection``, with the new socket under this deadline."""
        sock = socket.create_connection(*args, **kwargs)
        with self._lock:
            guard = sock.dup()
            self._sockets.append(guard)
            if self.expired:
                _shutdown(guard)
        return sock


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _NoRedirect(HTTPRedirectHandler):
    """Hands every redirect back to the caller (as ``HTTPError``), which applies the policy."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> Request | None:
        return None


def opener(deadline: Deadline) -> OpenerDirector:
    """A ``urllib`` opener whose connections live under ``deadline`` and that never redirects.

    Proxies from the standard environment variables still apply.
    """

    class _Http(HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = deadline.create_connection

    class _Https(HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = deadline.create_connection

    class _HttpHandler(HTTPHandler):
        def http_open(self, req: Request) -> Any:
            return self.do_open(_Http, req)

    class _HttpsHandler(HTTPSHandler):
        def https_open(self, req: Request) -> Any:
            return self.do_open(_Https, req, context=self._context)  # type: ignore[attr-defined]

    handlers: list[BaseHandler] = [ProxyHandler(), _HttpHandler(), _HttpsHandler(), _NoRedirect()]
    return build_opener(*handlers)


class BodyTooLarge(Exception):
    """The body is over the cap: ``what`` says how that is known (a header, bytes read)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class BadEncoding(Exception):
    """The body's ``Content-Encoding`` is unknown, or its compressed data is corrupt."""


class UnknownEncoding(BadEncoding):
    """The body's ``Content-Encoding`` is not one the step decodes."""


class Truncated(Exception):
    """The compressed stream ended before its end marker: the connection was cut."""


def check_length(content_length: str | None, cap: int) -> None:
    """Refuse a body whose declared ``Content-Length`` is already over ``cap``."""
    if content_length and content_length.strip().isdigit() and int(content_length) > cap:
        raise BodyTooLarge(f"Content-Length is {int(content_length)} bytes")


def _decoder(encoding: str) -> "zlib._Decompress | None":
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise UnknownEncoding(f"Content-Encoding {encoding!r}, which the step cannot decode")


def read_body(stream: Readable, cap: int, content_encoding: str | None = None) -> bytes:
    """The whole (decoded) body of ``stream``, read in chunks, at most ``cap`` bytes of it.

    Never reads more than ``cap + 1`` bytes from the stream, and never decodes more
    than ``cap + 1`` bytes either.

    Raises:
        BodyTooLarge: more than ``cap`` bytes on the wire, or decoded.
        BadEncoding: an unknown encoding, or corrupt compressed data.
        Truncated: compressed data that stops before its end.
    """
    decoder = _decoder(content_encoding or "")
    wire = 0
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(CHUNK, cap + 1 - wire))
        if not chunk:
            break
        wire += len(chunk)
        if decoder is None:
            parts.append(chunk)
            size += len(chunk)
        else:
            size = _inflate(decoder, chunk, parts, size, cap)
        if wire > cap:
            raise BodyTooLarge(f"more than {cap} bytes were sent")
        if size > cap:
            raise BodyTooLarge(f"more than {cap} bytes after decoding {content_encoding}")
    missing = getattr(stream, "length", None)
    if isinstance(missing, int) and missing > 0:
        # http.client's read(n) returns short at a cut connection instead of raising.
        raise Truncated(f"IncompleteRead: {wire} bytes read, {missing} more expected")
    if decoder is not None and not decoder.eof:
        raise Truncated("the compressed body ends early (connection cut?)")
    return b"".join(parts)


def _inflate(
    decoder: "zlib._Decompress", chunk: bytes, parts: list[bytes], size: int, cap: int
) -> int:
    """Decode ``chunk`` into ``parts`` without producing more than ``cap + 1`` bytes in all."""
    data = chunk
    while data and size <= cap:
        if decoder.eof:
            raise BadEncoding("data after the end of the compressed body")
        try:
            out = decoder.decompress(data, cap + 1 - size)
        except zlib.error as err:
            raise BadEncoding(f"corrupt compressed body: {err}") from None
        parts.append(out)
        size += len(out)
        data = decoder.unconsumed_tail or decoder.unused_data
    return size
