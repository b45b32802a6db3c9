"""The HTTP app: argo-server's event endpoint, ``/metrics``, ``/healthz``, and the UI's place.

``POST /api/v1/events/{namespace}/{discriminator}`` answers as argo-server does
(server/event/event_server.go, grpc-gateway): ``200 {}`` once the event is taken,
whether or not a binding matches (matching happens after, and is logged); ``400``
for a body that is not JSON; ``401`` without the token when one is configured. A
namespace other than the server's has no bindings, as on the cluster. Bodies are
read up to ``MAX_EVENT_BYTES`` (``413`` beyond), so memory stays bounded.
"""

import hmac
import json
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from workflows.serve.intake import Intake, event_metadata

EVENTS_PATH = "/api/v1/events/{namespace}/{discriminator}"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
OPEN_PATHS = frozenset({HEALTH_PATH})
"""Paths served without the token: a liveness probe needs none."""

MAX_EVENT_BYTES = 1 << 20
"""Largest event body accepted (1 MiB): a bucket notification is a few KiB."""

# grpc status codes in argo-server's error bodies (google.golang.org/grpc/codes)
_INVALID_ARGUMENT = 3
_UNAUTHENTICATED = 16
_UNAVAILABLE = 14


def _grpc_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


class BearerToken(BaseHTTPMiddleware):
    """Every request but ``/healthz`` needs ``Authorization: Bearer <token>`` (401 otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.expected = f"Bearer {token}".encode()

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Check the header in constant time, then pass the request on."""
        if request.url.path not in OPEN_PATHS:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self.expected):
                return _grpc_error(
                    401, _UNAUTHENTICATED, "token not valid; send Authorization: Bearer <token>"
                )
        return await call_next(request)


async def _read_bounded(request: Request) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_EVENT_BYTES:
            return None
    return bytes(body)


def create_app(
    intake: Intake,
    namespace: str,
    metrics_text: Callable[[], str],
    token: str | None = None,
    ui: ASGIApp | None = None,
) -> Starlette:
    """The server's Starlette app.

    Args:
        intake: where events go.
        namespace: the namespace the rendered bindings are served in.
        metrics_text: the Prometheus exposition of the store's runs.
        token: the bearer token every request but ``/healthz`` needs; None for none.
        ui: the web UI, mounted at ``/`` (:func:`workflows.serve.lifecycle.ui_app`).
    """

    async def events(request: Request) -> Response:
        raw = await _read_bounded(request)
        if raw is None:
            return _grpc_error(
                413, _INVALID_ARGUMENT, f"event body larger than {MAX_EVENT_BYTES} bytes"
            )
        try:
            payload = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as err:
            return _grpc_error(400, _INVALID_ARGUMENT, f"the event body is not JSON: {err}")
        discriminator = request.path_params["discriminator"]
        if request.path_params["namespace"] != namespace:
            intake.log(
                "unmatched",
                discriminator=discriminator,
                namespace=request.path_params["namespace"],
                reason=f"no bindings in that namespace; this server serves {namespace!r}",
            )
            return JSONResponse({})
        metadata = event_metadata(request.headers.items())
        fired = await run_in_threadpool(intake.receive, discriminator, payload, metadata)
        if any(f.run is None for f in fired):
            return _grpc_error(
                503, _UNAVAILABLE, "the server is stopping; send the event again later"
            )
        return JSONResponse({})

    async def metrics(_: Request) -> Response:
        from workflows.monitoring.metrics import CONTENT_TYPE

        text = await run_in_threadpool(metrics_text)
        return PlainTextResponse(
            text, media_type=CONTENT_TYPE.split(";")[0], headers={"content-type": CONTENT_TYPE}
        )

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    routes: list[BaseRoute] = [
        Route(EVENTS_PATH, events, methods=["POST"]),
        Route(METRICS_PATH, metrics, methods=["GET"]),
        Route(HEALTH_PATH, healthz, methods=["GET"]),
    ]
    if ui is not None:
        routes.append(Mount("/", app=ui))
    middleware = [Middleware(BearerToken, token=token)] if token else []
    return Starlette(routes=routes, middleware=middleware)
