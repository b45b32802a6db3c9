"""extract-http waits, reads and follows only within bounds: real loopback servers.

A request has a wall-time deadline (a server dribbling bytes cannot hold the step),
``Retry-After`` has a cap, paging that runs in a cycle fails, redirects and requests
are limited, bodies are capped (after gzip decoding too), and credentials never go to
another origin.
"""

import gzip
import io
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from steps.extract.http.config import HttpExtract
from tests.sources.http_server import Received, Reply, script, serve
from tests.sources.test_http_extract import (
    SECRET,
    events,
    extract,
    failure,
    ok,
    orders,
    rows,
)

BEARER = {"type": "bearer", "token_env": "API_TOKEN", "secret_name": "api"}

# --- defaults ---------------------------------------------------------------------------


def test_every_bound_has_a_default() -> None:
    config = HttpExtract(url="https://api.example.com/orders")
    assert config.timeout_s == 30
    assert config.request_deadline_s == 300
    assert config.max_response_bytes == 64 * 1024 * 1024
    assert config.max_redirects == 5
    assert config.max_requests == 100_000
    assert config.retry_after_max_s == 300
    for name in (
        "request_deadline_s",
        "max_response_bytes",
        "max_redirects",
        "max_requests",
        "retry_after_max_s",
    ):
        assert HttpExtract.model_fields[name].description


# --- request deadline -------------------------------------------------------------------


@pytest.mark.parametrize("drip_headers", [False, True], ids=["body", "headers"])
def test_a_dribbling_server_is_cut_off_at_the_request_deadline(
    tmp_path: Path, drip_headers: bool
) -> None:
    # One byte every 0.2 s never trips the 5 s socket timeout; 2000 bytes would take 400 s.
    slow = Reply(json=orders(40), drip_s=0.2, drip_headers=drip_headers)
    with serve({"/orders": script(slow)}) as srv:
        config = {"url": srv.url("/orders"), "request_deadline_s": 1, "max_retries": 1}
        started = time.monotonic()
        proc, out = extract(tmp_path, config)
        took = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert failure(proc) == (
        f"GET {srv.url('/orders')} failed after 1 retries: last error: request deadline of "
        "1 s passed"
    )
    assert len(srv.received) == 2
    assert took < 15
    assert not (out / "_manifest.json").exists()


def test_a_request_within_the_deadline_passes(tmp_path: Path) -> None:
    body = b'[{"id": 1}]'
    with serve({"/orders": script(Reply(raw=body, drip_s=0.02))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "request_deadline_s": 5})
    ok(proc)
    assert rows(out) == [{"id": 1}]


# --- Retry-After cap --------------------------------------------------------------------


def _in_a_day() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)


@pytest.mark.parametrize(
    ("status", "retry_after", "shown"),
    [
        (429, "86400", "429 Too Many Requests with Retry-After 86400 s"),
        (503, "http-date", "503 Service Unavailable with Retry-After 86"),
    ],
)
def test_retry_after_over_the_cap_fails_at_once_with_exit_1(
    tmp_path: Path, status: int, retry_after: str, shown: str
) -> None:
    value = _in_a_day() if retry_after == "http-date" else retry_after
    replies = script(Reply(status, {"e": "later"}, headers={"Retry-After": value}))
    with serve({"/orders": replies}) as srv:
        started = time.monotonic()
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "retry_after_max_s": 60})
        took = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    message = failure(proc)
    assert message.startswith(f"GET {srv.url('/orders')} returned {shown}"), message
    assert message.endswith(
        "s, over retry_after_max_s (60 s); not waiting that long: the workflow's retry comes "
        "back later (or raise retry_after_max_s)"
    )
    assert len(srv.received) == 1 and took < 15
    assert events(proc, "http_retry") == []


def test_retry_after_within_the_cap_is_waited_for(tmp_path: Path) -> None:
    replies = script(Reply(429, {"e": 1}, headers={"Retry-After": "1"}), Reply(json=orders(1)))
    with serve({"/orders": replies}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "retry_after_max_s": 1})
    ok(proc)
    assert len(rows(out)) == 1
    [retry] = events(proc, "http_retry")
    assert retry["sleep_s"] == 1.0


# --- pagination cycles and the request bound --------------------------------------------


def test_next_link_back_to_an_earlier_page_fails_naming_both(tmp_path: Path) -> None:
    def handle(req: Received) -> Reply:
        n = int(req.query.get("page", "1"))
        following = {1: "/orders?page=2", 2: "/orders?page=3", 3: "/orders"}[n]
        return Reply(json={"data": orders(9)[(n - 1) * 3 : n * 3], "next": following})

    with serve({"/orders": handle}) as srv:
        config = {"url": srv.url("/orders"), "records_path": "data", "pagination": {
            "type": "next_link"}}  # fmt: skip
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"pagination cycle at {srv.url('/orders')}?page=3: the next page of page 3 is "
        f"{srv.url('/orders')}, already fetched as page 1; check the API's next links"
    )
    assert len(srv.received) == 3


def test_link_header_pointing_at_itself_fails(tmp_path: Path) -> None:
    def handle(req: Received) -> Reply:
        n = int(req.query.get("page", "1"))
        link = f'</orders?page={min(n + 1, 2)}>; rel="next"'
        return Reply(json=orders(4)[(n - 1) * 2 : n * 2], headers={"Link": link})

    with serve({"/orders": handle}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "pagination": {
            "type": "link_header"}})  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"pagination cycle at {srv.url('/orders')}?page=2: the next page of page 2 is "
        f"{srv.url('/orders')}?page=2, already fetched as page 2; check the API's next links"
    )


@pytest.mark.parametrize(
    ("pagination", "param", "second"),
    [
        ({"type": "page"}, "page", "?page=2"),
        ({"type": "offset", "limit": 3}, "offset", "?offset=3&limit=3"),
        ({"type": "cursor", "cursor_path": "next"}, None, "?cursor=2"),
    ],
)
def test_an_api_that_ignores_the_paging_parameter_fails_on_the_second_page(
    tmp_path: Path, pagination: dict[str, Any], param: str | None, second: str
) -> None:
    # The same page whatever is asked (a new cursor token every time, for the cursor style).
    calls = {"n": 0}

    def handle(req: Received) -> Reply:
        calls["n"] += 1
        body: Any = orders(3)
        if pagination["type"] == "cursor":
            body = {"records": orders(3), "next": str(calls["n"] + 1)}
        return Reply(json=body)

    with serve({"/orders": handle}) as srv:
        config: dict[str, Any] = {"url": srv.url("/orders"), "pagination": pagination}
        if pagination["type"] == "cursor":
            config["records_path"] = "records"
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 2, proc.stderr
    hint = f" although {param!r} changed (does the API ignore it?)" if param else ""
    assert failure(proc) == (
        f"pagination cycle at {srv.url('/orders')}{second}: page 2 has the same 3 records as "
        f"page 1{hint}; check pagination"
    )
    assert len(srv.received) == 2


def test_cursor_token_used_before_fails(tmp_path: Path) -> None:
    following = {None: "a", "a": "b", "b": "a"}

    def handle(req: Received) -> Reply:
        token = req.query.get("cursor")
        start = {None: 0, "a": 2, "b": 4}[token]
        return Reply(json={"data": orders(6)[start : start + 2], "meta": {"next": following[
            token]}})  # fmt: skip

    with serve({"/orders": handle}) as srv:
        pagination = {"type": "cursor", "cursor_path": "meta.next"}
        config = {"url": srv.url("/orders"), "records_path": "data", "pagination": pagination}
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"pagination cycle at {srv.url('/orders')}?cursor=b: the next token 'a' (at "
        "'meta.next') of page 3 was already sent for page 2; check pagination.cursor_path"
    )
    assert len(srv.received) == 3


def test_max_requests_bounds_an_endless_source(tmp_path: Path) -> None:
    def handle(req: Received) -> Reply:
        n = int(req.query["page"])
        return Reply(json=[{"id": n}])

    with serve({"/orders": handle}) as srv:
        config = {"url": srv.url("/orders"), "pagination": {"type": "page"}, "max_requests": 5}
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"GET {srv.url('/orders')}?page=6 would be request 6, over max_requests (5); the "
        "source pages further than that: raise max_requests, or set pagination.max_pages to "
        "stop early"
    )
    assert len(srv.received) == 5


def test_retries_count_towards_max_requests(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(500, {"e": 1}))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "max_requests": 3})
    assert proc.returncode == 2, proc.stderr
    assert "would be request 4, over max_requests (3)" in failure(proc)
    assert len(srv.received) == 3


# --- redirects --------------------------------------------------------------------------


def test_same_origin_redirect_keeps_credentials_and_resolves_links_at_the_target(
    tmp_path: Path,
) -> None:
    def v2(req: Received) -> Reply:
        n = int(req.query.get("page", "1"))
        following = "orders?page=2" if n == 1 else None
        return Reply(json={"data": orders(4)[(n - 1) * 2 : n * 2], "next": following})

    routes = {
        "/v1/orders": script(Reply(301, headers={"Location": "/v2/orders"})),
        "/v2/orders": v2,
    }
    with serve(routes) as srv:
        config = {"url": srv.url("/v1/orders"), "records_path": "data", "auth": BEARER,
                  "pagination": {"type": "next_link"}}  # fmt: skip
        proc, out = extract(tmp_path, config, env={"API_TOKEN": SECRET})
    ok(proc)
    assert [r["id"] for r in rows(out)] == [1, 2, 3, 4]
    assert [r.path for r in srv.received] == ["/v1/orders", "/v2/orders", "/v2/orders"]
    assert all(r.headers["Authorization"] == f"Bearer {SECRET}" for r in srv.received)
    [hop] = events(proc, "http_redirect")
    assert hop["status"] == 301 and hop["credentials"] == "sent"


@pytest.mark.parametrize(("max_redirects", "requests"), [(0, 1), (2, 3)])
def test_a_redirect_loop_stops_at_max_redirects(
    tmp_path: Path, max_redirects: int, requests: int
) -> None:
    routes = {
        "/a": script(Reply(302, headers={"Location": "/b"})),
        "/b": script(Reply(307, headers={"Location": "/a"})),
    }
    with serve(routes) as srv:
        config = {"url": srv.url("/a"), "max_redirects": max_redirects}
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 2, proc.stderr
    last = "/b" if requests % 2 else "/a"
    assert failure(proc) == (
        f"GET {srv.url('/a')} redirected more than {max_redirects} times (the last to "
        f"{srv.url(last)}); check url for a redirect loop, or raise max_redirects"
    )
    assert len(srv.received) == requests


def test_post_redirected_with_303_continues_as_get_and_307_keeps_the_body(
    tmp_path: Path,
) -> None:
    routes = {
        "/search": script(Reply(307, headers={"Location": "/search2"})),
        "/search2": script(Reply(303, headers={"Location": "/results"})),
        "/results": script(Reply(json={"hits": orders(2)})),
    }
    with serve(routes) as srv:
        config = {"url": srv.url("/search"), "method": "POST", "json_body": {"q": 1},
                  "records_path": "hits"}  # fmt: skip
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert len(rows(out)) == 2
    assert [(r.method, r.body) for r in srv.received] == [
        ("POST", b'{"q": 1}'),
        ("POST", b'{"q": 1}'),
        ("GET", b""),
    ]


# --- credentials stay with their origin -------------------------------------------------


CREDENTIALS = [
    (BEARER, {"API_TOKEN": SECRET}, "Authorization"),
    (
        {"type": "basic", "username_env": "API_USER", "password_env": "API_PASS",
         "secret_name": "api"},
        {"API_USER": "etl", "API_PASS": SECRET},
        "Authorization",
    ),
    (
        {"type": "api_key", "header": "X-Api-Key", "value_env": "API_KEY", "secret_name": "api"},
        {"API_KEY": SECRET},
        "X-Api-Key",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("auth", "env", "header"), CREDENTIALS, ids=["bearer", "basic", "key"])
def test_cross_origin_redirect_drops_the_credentials(
    tmp_path: Path, auth: dict[str, str], env: dict[str, str], header: str
) -> None:
    with serve({"/orders": script(Reply(json=orders(2)))}) as other:
        moved = Reply(302, headers={"Location": other.url("/orders")})
        with serve({"/orders": script(moved)}) as api:
            config = {"url": api.url("/orders"), "auth": auth}
            proc, out = extract(tmp_path, config, env=env)
    ok(proc)
    assert len(rows(out)) == 2
    assert header in api.received[0].headers
    [seen] = other.received
    assert header not in seen.headers and "Authorization" not in seen.headers
    assert SECRET not in repr(seen)
    [hop] = events(proc, "http_redirect")
    assert hop["credentials"] == "withheld"
    assert events(proc, "credentials_withheld")[0]["url"] == other.url("/orders")


def test_next_link_to_another_origin_gets_no_credentials(tmp_path: Path) -> None:
    with serve({"/more": script(Reply(json={"data": orders(4)[2:], "next": None}))}) as other:
        first = Reply(json={"data": orders(2), "next": other.url("/more")})
        with serve({"/orders": script(first)}) as api:
            config = {"url": api.url("/orders"), "records_path": "data", "auth": BEARER,
                      "pagination": {"type": "next_link"}}  # fmt: skip
            proc, out = extract(tmp_path, config, env={"API_TOKEN": SECRET})
    ok(proc)
    assert [r["id"] for r in rows(out)] == [1, 2, 3, 4]
    assert api.received[0].headers["Authorization"] == f"Bearer {SECRET}"
    [seen] = other.received
    assert "Authorization" not in seen.headers and SECRET not in repr(seen)


def test_redirect_to_the_same_host_on_another_port_or_scheme_is_another_origin() -> None:
    from steps.extract.http.urls import origin

    assert origin("http://h/x") == origin("http://H:80/y")
    assert origin("https://h/x") == origin("https://h:443/")
    assert origin("http://h/x") != origin("https://h/x")
    assert origin("http://h:8080/x") != origin("http://h:8081/x")


# --- response size ----------------------------------------------------------------------


def _zeros(total: int) -> Iterator[bytes]:
    chunk = b"0" * 65536
    for _ in range(total // len(chunk)):
        yield chunk


def test_content_length_over_the_cap_fails_before_reading(tmp_path: Path) -> None:
    huge = Reply(stream=lambda: _zeros(2**31), headers={"Content-Length": str(2**31)})
    with serve({"/orders": script(huge)}) as srv:
        started = time.monotonic()
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "max_response_bytes": 2**20})
        took = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"GET {srv.url('/orders')} returned a body over max_response_bytes (1048576 bytes = "
        "1 MiB): Content-Length is 2147483648 bytes; raise max_response_bytes, or ask for "
        "smaller pages (pagination page_size or limit)"
    )
    assert len(srv.received) == 1 and took < 15


def test_a_body_without_length_is_cut_at_the_cap(tmp_path: Path) -> None:
    endless = Reply(stream=lambda: _zeros(2**31))
    with serve({"/orders": script(endless)}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "max_response_bytes": 300_000})
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"GET {srv.url('/orders')} returned a body over max_response_bytes (300000 bytes): "
        "more than 300000 bytes were sent; raise max_response_bytes, or ask for smaller pages "
        "(pagination page_size or limit)"
    )


class _Counting(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, amt: int | None = -1, /) -> bytes:
        chunk = super().read(amt)
        self.consumed += len(chunk)
        return chunk


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_read_body_never_reads_more_than_the_cap_plus_one(encoding: str | None) -> None:
    from steps.extract.http.transport import BodyTooLarge, read_body

    data = bytes(range(256)) * 8192  # 2 MiB that barely compress
    stream = _Counting(gzip.compress(data) if encoding else data)
    with pytest.raises(BodyTooLarge):
        read_body(stream, 100_000, encoding)
    assert stream.consumed <= 100_001
    assert read_body(_Counting(gzip.compress(b"[1]") if encoding else b"[1]"), 30, encoding) == (
        b"[1]"
    )


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_is_capped_on_the_decoded_size(tmp_path: Path, encoding: str) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if encoding == "gzip" else 15)
    bomb = b"".join(packer.compress(b"\0" * 2**20) for _ in range(256)) + packer.flush()
    assert len(bomb) < 2**20  # 256 MiB decoded
    reply = Reply(raw=bomb, headers={"Content-Encoding": encoding})
    with serve({"/orders": script(reply)}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "max_response_bytes": 2**21})
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"GET {srv.url('/orders')} returned a body over max_response_bytes (2097152 bytes = "
        f"2 MiB): more than 2097152 bytes after decoding {encoding}; raise max_response_bytes, "
        "or ask for smaller pages (pagination page_size or limit)"
    )


# --- compressed responses ---------------------------------------------------------------


def test_gzip_response_is_decoded_and_asked_for(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(json={"data": orders(500)}, gzip=True))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "records_path": "data"})
    ok(proc)
    assert [r["id"] for r in rows(out)] == list(range(1, 501))
    assert "gzip" in srv.received[0].headers["Accept-Encoding"]


def test_deflate_response_is_decoded(tmp_path: Path) -> None:
    body = zlib.compress(b'[{"id": 1}, {"id": 2}]')
    reply = Reply(raw=body, headers={"Content-Encoding": "deflate"})
    with serve({"/orders": script(reply)}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders")})
    ok(proc)
    assert rows(out) == [{"id": 1}, {"id": 2}]


def test_corrupt_gzip_fails_with_exit_1(tmp_path: Path) -> None:
    reply = Reply(raw=b"\x1f\x8b\x08\x00garbage-not-deflate", headers={"Content-Encoding": "gzip"})
    with serve({"/orders": script(reply)}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders")})
    assert proc.returncode == 1, proc.stderr
    assert failure(proc).startswith(
        f"GET {srv.url('/orders')} returned a body that does not decode: corrupt compressed body"
    )


def test_unknown_content_encoding_fails_with_exit_2(tmp_path: Path) -> None:
    reply = Reply(raw=b"\x00\x01", headers={"Content-Encoding": "br"})
    with serve({"/orders": script(reply)}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders")})
    assert proc.returncode == 2, proc.stderr
    assert failure(proc) == (
        f"GET {srv.url('/orders')} answered with Content-Encoding 'br', which the step cannot "
        "decode; send an Accept-Encoding header (headers) the step can decode"
    )
