"""The HTTP app: argo-server's event endpoint, ``/metrics``, ``/healthz``, and the UI's place.

``POST /api/v1/events/{namespace}/{discriminator}`` answers as argo-server does
(server/event/event_server.go, grpc-gateway): ``200 {}`` once the event is taken,
whether or not a binding matches (matching happens after, and is logged); ``400``
for a body that is not JSON; ``401`` without the token when one is configured. A
namespace other than the server's has no bindings, as on the cluster. Bodies are
read up to ``MAX_EVENT_BYTES`` (``413`` beyond), so memory stays bounded.

With a token, API clients send ``Authorization: Bearer <token>``; a browser cannot
add that header to its page loads, so ``/login`` takes the token once in a form and
sets it as an HttpOnly, SameSite=Strict cookie, which the check accepts too. A
browser page load without either is sent to ``/login`` instead of a JSON 401.
"""

import hmac
import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from workflows.serve.intake import Intake, event_metadata

EVENTS_PATH = "/api/v1/events/{namespace}/{discriminator}"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
LOGIN_PATH = "/login"
OPEN_PATHS = frozenset({HEALTH_PATH, LOGIN_PATH})
"""Paths served without the token: a liveness probe, and the form that takes it."""

TOKEN_COOKIE = "ferry_token"
"""The cookie ``/login`` sets, holding the token for a browser's later requests."""

MAX_LOGIN_BYTES = 4096
"""Largest login form body read."""

_LOGIN_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry: sign in</title></head>
<body><h1>Ferry</h1><p>{message}</p>
<form method="post" action="/login">
<label>Token <input type="password" name="token" autocomplete="current-password" autofocus>
</label> <button type="submit">Sign in</button></form></body></html>
"""

MAX_EVENT_BYTES = 1 << 20
"""Largest event body accepted (1 MiB): a bucket notification is a few KiB."""

# grpc status codes in argo-server's error bodies (google.golang.org/grpc/codes)
_INVALID_ARGUMENT = 3
_UNAUTHENTICATED = 16
_UNAVAILABLE = 14


def _grpc_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


class BearerToken(BaseHTTPMiddleware):
    """Every request but ``/healthz`` and ``/login`` needs the token (401 otherwise).

    As ``Authorization: Bearer <token>`` or as the cookie ``/login`` set.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.token = token.encode()
        self.expected = f"Bearer {token}".encode()

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Check the header or cookie in constant time, then pass the request on."""
        if request.url.path not in OPEN_PATHS:
            header = request.headers.get("authorization", "").encode()
            cookie = request.cookies.get(TOKEN_COOKIE, "").encode()
            if not (
                hmac.compare_digest(header, self.expected)
                or hmac.compare_digest(cookie, self.token)
            ):
                if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                    return RedirectResponse(LOGIN_PATH, status_code=303)
                return _grpc_error(
                    401, _UNAUTHENTICATED, "token not valid; send Authorization: Bearer <token>"
                )
        return await call_next(request)


def _login_route(token: str) -> Route:
    """``/login``: a form for the token; a right one becomes the browser's cookie."""

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(_LOGIN_FORM.format(message="This server needs its token."))
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_LOGIN_BYTES:
                return HTMLResponse(_LOGIN_FORM.format(message="Form too large."), 413)
        given = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0]
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HTMLResponse(_LOGIN_FORM.format(message="Token not valid; try again."), 401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    return Route(LOGIN_PATH, login, methods=["GET", "POST"])


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
    if token:
        routes.append(_login_route(token))
    if ui is not None:
        routes.append(Mount("/", app=ui))
    middleware = [Middleware(BearerToken, token=token)] if token else []
    return Starlette(routes=routes, middleware=middleware)
