"""A small deterministic orders API: the HTTP source of the demo pipeline.

``GET /orders`` answers ``{"data": [...], "next": <relative URL or null>, "total": N}``
with orders sorted by ``updated_at``. Query parameters: ``updated_since`` (ISO 8601,
inclusive), ``updated_before`` (ISO 8601, exclusive), ``page`` (from 1) and
``per_page`` (1..1000, default 100). The same ``count`` and ``seed`` always give the
same orders. When a token is set, every request needs ``Authorization: Bearer <token>``.
"""

import json
import random
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

TOKEN_ENV = "FERRY_DEMO_API_TOKEN"
"""Environment variable with the bearer token the demo API requires (unset: no auth)."""

DEFAULT_PORT = 8765
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
CUSTOMERS = 50
_START = datetime(2026, 11, 1, tzinfo=UTC)
_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled")
_CURRENCIES = ("EUR", "USD", "GBP")


def demo_orders(count: int, seed: int, customers: int = CUSTOMERS) -> list[dict[str, Any]]:
    """``count`` orders, the same for the same ``seed``; ``customer_id`` is 1..customers."""
    rng = random.Random(seed)
    updated = _START
    orders = []
    for order_id in range(1, count + 1):
        updated += timedelta(seconds=rng.randint(60, 3600))
        orders.append(
            {
                "order_id": order_id,
                "customer_id": rng.randint(1, customers),
                "updated_at": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": rng.choice(_STATUSES),
                "amount": round(rng.uniform(5, 500), 2),
                "currency": rng.choice(_CURRENCIES),
            }
        )
    return orders


class BadRequest(ValueError):
    """A query parameter the demo API does not accept."""


def _instant(params: dict[str, str], name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name}={text!r} is not an ISO 8601 timestamp") from None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _number(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name, str(default))
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(f"{name}={text!r} must be a whole number in {low}..{high}")
    return int(text)


def orders_page(orders: list[dict[str, Any]], path: str, params: dict[str, str]) -> dict[str, Any]:
    """The JSON body of ``GET /orders`` for ``params``.

    Raises:
        BadRequest: a parameter is malformed.
    """
    since = _instant(params, "updated_since")
    before = _instant(params, "updated_before")
    page = _number(params, "page", 1, 1, 10**9)
    per_page = _number(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    selected = [
        o
        for o in orders
        if (since is None or datetime.fromisoformat(o["updated_at"]) >= since)
        and (before is None or datetime.fromisoformat(o["updated_at"]) < before)
    ]
    start = (page - 1) * per_page
    following = None
    if start + per_page < len(selected):
        following = f"{path}?{urlencode({**params, 'page': page + 1, 'per_page': per_page})}"
    return {"data": selected[start : start + per_page], "next": following, "total": len(selected)}


class DemoApiServer(ThreadingHTTPServer):
    """The demo API: a threading HTTP server holding the orders and the expected token."""

    daemon_threads = True

    def __init__(self, host: str, port: int, orders: list[dict[str, Any]], token: str | None):
        super().__init__((host, port), _DemoHandler)
        self.orders = orders
        self.token = token

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the listening socket (the real port when 0 was asked)."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"


class _DemoHandler(BaseHTTPRequestHandler):
    server: DemoApiServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        token = self.server.token
        if token and self.headers.get("Authorization") != f"Bearer {token}":
            self._reply(401, {"error": f"missing or wrong bearer token (see {TOKEN_ENV})"})
            return
        if parts.path == "/health":
            self._reply(200, {"status": "ok"})
        elif parts.path == "/orders":
            params = dict(parse_qsl(parts.query))
            try:
                self._reply(200, orders_page(self.server.orders, parts.path, params))
            except BadRequest as err:
                self._reply(400, {"error": str(err)})
        else:
            self._reply(404, {"error": f"no route {parts.path}; try /orders"})


def make_server(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    orders: int = 500,
    seed: int = 7,
    token: str | None = None,
) -> DemoApiServer:
    """A bound (not yet serving) demo API; port 0 picks a free port."""
    return DemoApiServer(host, port, demo_orders(orders, seed), token)


def serve_in_thread(server: DemoApiServer) -> threading.Thread:
    """Serve ``server`` in a daemon thread (tests, notebooks); stop with ``server.shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
