"""The HTTP app over real loopback HTTP (uvicorn in a thread): paths, codes, the UI mount."""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from serve_testkit import PIPELINES, Clock, RecordingLauncher, captured_log, utc, wait_for
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from workflows.serve.app import MAX_EVENT_BYTES, create_app
from workflows.serve.intake import Intake
from workflows.serve.lifecycle import bind
from workflows.serve.scheduler import Scheduler
from workflows.serve.served import Binding, load_served


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for("uvicorn to start", lambda: server.started, timeout=30, every=0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def post(url: str, body: bytes, **headers: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def app_parts(tmp_path: Path) -> tuple[Intake, RecordingLauncher, Any]:
    served = load_served([str(PIPELINES)])
    clock = Clock(utc("2026-03-02T10:00:00"))
    log, lines = captured_log(clock)
    launcher = RecordingLauncher()
    scheduler = Scheduler(served, str(tmp_path / ".ferry"), launcher, log, clock=clock)
    scheduler.recover()
    bindings = [b for p in served.values() for b in p.bindings]
    guarded = Binding("guarded", "serve-events", "payload.a.b == 1", ())
    return Intake([*bindings, guarded], scheduler, log), launcher, lines


def test_events_answer_as_argo_server_does(
    app_parts: tuple[Intake, RecordingLauncher, Any],
) -> None:
    intake, launcher, lines = app_parts
    with serving(create_app(intake, "ferry", lambda: "")) as url:
        events = f"{url}/api/v1/events"
        assert post(f"{events}/default/orders-ready", b'{"kind": "daily"}') == (200, {})
        assert post(f"{events}/ferry/orders-ready", b"[1") == (
            400,
            {
                "code": 3,
                "message": (
                    "the event body is not JSON: Expecting ',' delimiter: line 1 column 3 (char 2)"
                ),
            },
        )
        too_big = b'"' + b"x" * MAX_EVENT_BYTES + b'"'
        assert post(f"{events}/ferry/orders-ready", too_big)[0] == 413
        body = b'{"kind": "daily", "date": "2026-05-01", "label": "l", "a": null}'
        assert post(f"{events}/ferry/orders-ready", body) == (200, {})

    assert launcher.started == [
        ("serve-events", {"run_date": "2026-05-01", "label": "l"}),
    ]
    logged = lines()
    other_namespace = next(line for line in logged if line.get("namespace") == "default")
    assert other_namespace["reason"] == "no bindings in that namespace; this server serves 'ferry'"
    refused = [line for line in logged if line["event"] == "refused"]
    assert [(line["binding"], line["reason"]) for line in refused] == [
        ("guarded", "cannot fetch 'b' from nil")
    ]


def test_the_ui_is_mounted_at_the_root(app_parts: tuple[Intake, RecordingLauncher, Any]) -> None:
    async def home(_: Request) -> PlainTextResponse:
        return PlainTextResponse("runs")

    ui = Starlette(routes=[Route("/", home)])
    with serving(create_app(app_parts[0], "default", lambda: "m 1\n", ui=ui)) as url:
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:
            assert response.read() == b"runs"
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            assert response.read() == b"m 1\n"
            assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, data: bytes | None = None, **headers: str) -> tuple[int, Any, bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_a_browser_signs_in_once_and_api_clients_send_the_header(
    app_parts: tuple[Intake, RecordingLauncher, Any],
) -> None:
    async def home(_: Request) -> PlainTextResponse:
        return PlainTextResponse("runs")

    ui = Starlette(routes=[Route("/", home)])
    app = create_app(app_parts[0], "default", lambda: "", token="s3cret", ui=ui)
    with serving(app) as url:
        html = {"Accept": "text/html,application/xhtml+xml"}
        code, headers, _ = fetch(f"{url}/", **html)
        assert (code, headers["location"]) == (303, "/login")
        code, _, body = fetch(f"{url}/")
        assert code == 401
        assert json.loads(body)["message"] == "token not valid; send Authorization: Bearer <token>"
        code, _, form = fetch(f"{url}/login")
        assert code == 200 and b'name="token"' in form and b"s3cret" not in form

        code, headers, body = fetch(f"{url}/login", b"token=wrong")
        assert code == 401 and b"Token not valid" in body and "set-cookie" not in headers
        code, headers, _ = fetch(f"{url}/login", b"token=s3cret")
        assert (code, headers["location"]) == (303, "/")
        cookie = headers["set-cookie"]
        assert cookie.startswith("ferry_token=s3cret;")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie

        assert fetch(f"{url}/", Cookie="ferry_token=s3cret", **html)[:1] == (200,)
        assert fetch(f"{url}/", Cookie="ferry_token=nope", **html)[0] == 303
        assert fetch(f"{url}/metrics", Authorization="Bearer s3cret")[0] == 200
        assert fetch(f"{url}/healthz")[0] == 200
