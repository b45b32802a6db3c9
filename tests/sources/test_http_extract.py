"""extract-http against real HTTP servers on loopback, run as ``python -m steps``."""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from steps.extract.http.client import _retry_after
from steps.extract.http.urls import safe_url
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.store import open_location
from tests.conftest import run_step
from tests.sources.http_server import Received, Reply, script, serve
from workflows.cli.demo_api_cmd import demo_api
from workflows.demo_api import demo_orders, make_server, serve_in_thread

FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 5}
SECRET = "s3cr3t-Tok3n-value"


def extract(
    tmp_path: Path, config: dict[str, Any], *, run_id: str = "r1", env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    store = tmp_path / "store"
    out = store / "artifacts" / run_id / "orders"
    outputs = tmp_path / f"outputs-{run_id}"
    proc = run_step(
        "extract-http",
        "--pipeline", "shop",
        "--step", "orders",
        "--run-id", run_id,
        "--store", str(store),
        "--output", str(out),
        "--config", json.dumps({**FAST, **config}),
        env={"FERRY_OUTPUTS_DIR": str(outputs), **(env or {})},
    )  # fmt: skip
    return proc, out


def ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr


def read(out: Path) -> ArtifactReader:
    return ArtifactReader(open_location(str(out)), "orders")


def rows(out: Path) -> list[dict[str, Any]]:
    return read(out).dataset().to_table().to_pylist()


def events(proc: subprocess.CompletedProcess[str], name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    return [e for e in lines if e["event"] == name]


def failure(proc: subprocess.CompletedProcess[str]) -> str:
    last = proc.stderr.strip().splitlines()[-1]
    prefix = "ferry: pipeline 'shop', step 'orders': "
    assert last.startswith(prefix), last
    return last[len(prefix) :]


def orders(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "amount": i * 1.5, "status": "paid"} for i in range(1, n + 1)]


def paged(records: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


# --- pagination -------------------------------------------------------------------------


def test_single_request_nested_records_path_and_page_log(tmp_path: Path) -> None:
    body = {"data": {"items": orders(3)}}
    with serve({"/orders": script(Reply(json=body))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "records_path": "data.items"})
    ok(proc)
    assert rows(out) == [{"id": i, "amount": i * 1.5, "status": "paid"} for i in (1, 2, 3)]
    assert str(read(out).schema) == "id: int64\namount: double\nstatus: string"
    [page] = events(proc, "page_fetched")
    assert page["url"] == srv.url("/orders") and page["status"] == 200 and page["records"] == 3
    assert (tmp_path / "outputs-r1" / "rows_in").read_text() == "3"
    assert (tmp_path / "outputs-r1" / "rows_out").read_text() == "3"
    assert (tmp_path / "outputs-r1" / "rows_rejected").read_text() == "0"


def test_page_pagination_stops_on_empty_page(tmp_path: Path) -> None:
    pages = paged(orders(5), 2)

    def handle(req: Received) -> Reply:
        n = int(req.query["p"])
        return Reply(json={"data": pages[n] if n < len(pages) else []})

    with serve({"/orders": handle}) as srv:
        pagination = {
            "type": "page",
            "page_param": "p",
            "size_param": "n",
            "page_size": 2,
            "start": 0,
        }
        config = {"url": srv.url("/orders"), "records_path": "data", "pagination": pagination}
        proc, out = extract(tmp_path, {**config, "params": {"region": "eu"}})
    ok(proc)
    assert [r["id"] for r in rows(out)] == [1, 2, 3, 4, 5]
    assert [r.query for r in srv.received] == [
        {"region": "eu", "p": str(n), "n": "2"} for n in range(4)
    ]


def test_offset_pagination_advances_by_records_received(tmp_path: Path) -> None:
    records = orders(7)

    def handle(req: Received) -> Reply:
        offset, limit = int(req.query["skip"]), min(int(req.query["take"]), 3)
        return Reply(json=records[offset : offset + limit])

    with serve({"/orders": handle}) as srv:
        pagination = {"type": "offset", "offset_param": "skip", "limit_param": "take", "limit": 5}
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "pagination": pagination})
    ok(proc)
    assert [r["id"] for r in rows(out)] == list(range(1, 8))
    assert [r.query["skip"] for r in srv.received] == ["0", "3", "6", "7"]


def test_cursor_pagination_follows_tokens_until_null(tmp_path: Path) -> None:
    pages = paged(orders(5), 2)
    tokens = {None: 0, "t1": 1, "t2": 2}

    def handle(req: Received) -> Reply:
        n = tokens[req.query.get("after")]
        following = f"t{n + 1}" if n + 1 < len(pages) else None
        return Reply(json={"items": pages[n], "meta": {"next": following}})

    with serve({"/orders": handle}) as srv:
        pagination = {"type": "cursor", "cursor_param": "after", "cursor_path": "meta.next"}
        config = {"url": srv.url("/orders"), "records_path": "items", "pagination": pagination}
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert [r["id"] for r in rows(out)] == [1, 2, 3, 4, 5]
    assert [r.query.get("after") for r in srv.received] == [None, "t1", "t2"]


def test_next_link_pagination_resolves_relative_urls(tmp_path: Path) -> None:
    def handle(req: Received) -> Reply:
        n = int(req.query.get("page", "0"))
        following = f"/orders?page={n + 1}" if n < 2 else None
        return Reply(json={"data": orders(6)[n * 2 : n * 2 + 2], "links": {"next": following}})

    with serve({"/orders": handle}) as srv:
        pagination = {"type": "next_link", "next_path": "links.next"}
        config = {"url": srv.url("/orders"), "records_path": "data", "pagination": pagination}
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert [r["id"] for r in rows(out)] == [1, 2, 3, 4, 5, 6]
    assert len(srv.received) == 3


def test_link_header_pagination_and_max_pages(tmp_path: Path) -> None:
    def handle(req: Received) -> Reply:
        n = int(req.query.get("page", "1"))
        link = f'<{srv.url("/orders")}?page=1>; rel="first", </orders?page={n + 1}>; rel="next"'
        return Reply(json=orders(20)[(n - 1) * 2 : n * 2], headers={"Link": link})

    with serve({"/orders": handle}) as srv:
        pagination = {"type": "link_header", "max_pages": 3}
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "pagination": pagination})
    ok(proc)
    assert [r["id"] for r in rows(out)] == [1, 2, 3, 4, 5, 6]
    assert [r.query.get("page") for r in srv.received] == [None, "2", "3"]
    assert events(proc, "max_pages_reached") != []


def test_post_sends_json_body(tmp_path: Path) -> None:
    with serve({"/search": script(Reply(json={"hits": orders(2)}))}) as srv:
        config = {
            "url": srv.url("/search"),
            "method": "POST",
            "json_body": {"filter": {"status": "paid"}},
            "records_path": "hits",
        }
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert len(rows(out)) == 2
    [req] = srv.received
    assert req.method == "POST" and json.loads(req.body) == {"filter": {"status": "paid"}}
    assert req.headers["Content-Type"] == "application/json"


def test_batches_are_bounded_by_batch_size(tmp_path: Path) -> None:
    pages = paged(orders(25), 4)

    def handle(req: Received) -> Reply:
        n = int(req.query["page"]) - 1
        return Reply(json=pages[n] if n < len(pages) else [])

    with serve({"/orders": handle}) as srv:
        config = {"url": srv.url("/orders"), "pagination": {"type": "page"}, "batch_size": 8}
        proc, out = extract(tmp_path, config)
    ok(proc)
    batches = list(read(out).dataset().to_batches())
    assert sum(b.num_rows for b in batches) == 25
    assert [r["id"] for r in rows(out)] == list(range(1, 26))


# --- auth and secrets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "env", "header", "expected"),
    [
        (
            {"type": "bearer", "token_env": "API_TOKEN", "secret_name": "api"},
            {"API_TOKEN": SECRET},
            "Authorization",
            f"Bearer {SECRET}",
        ),
        (
            {"type": "basic", "username_env": "API_USER", "password_env": "API_PASS",
             "secret_name": "api"},
            {"API_USER": "etl", "API_PASS": SECRET},
            "Authorization",
            "Basic ZXRsOnMzY3IzdC1Ub2szbi12YWx1ZQ==",
        ),
        (
            {"type": "api_key", "header": "X-Api-Key", "value_env": "API_KEY",
             "secret_name": "api"},
            {"API_KEY": SECRET},
            "X-Api-Key",
            SECRET,
        ),
    ],
)  # fmt: skip
def test_auth_header_is_sent_and_the_secret_is_never_written(
    tmp_path: Path, auth: dict[str, str], env: dict[str, str], header: str, expected: str
) -> None:
    with serve({"/orders": script(Reply(json=orders(2)))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "auth": auth}, env=env)
    ok(proc)
    assert srv.received[0].headers[header] == expected
    assert SECRET not in proc.stdout + proc.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()


def test_secret_envs_reference_kubernetes_secrets() -> None:
    from steps.extract.http.config import HttpExtract
    from steps.runtime.config import SecretEnv

    config = HttpExtract.model_validate(
        {
            "url": "https://api.example.com/orders",
            "auth": {"type": "basic", "username_env": "U", "password_env": "P", "secret_name": "s"},
        }
    )
    assert config.secret_envs() == [
        SecretEnv(env="U", secret_name="s", secret_key="username"),
        SecretEnv(env="P", secret_name="s", secret_key="password"),
    ]


def test_401_fails_at_once_naming_the_credentials_variable(tmp_path: Path) -> None:
    reply = Reply(401, {"error": "bad token"})
    with serve({"/orders": script(reply)}) as srv:
        auth = {"type": "bearer", "token_env": "API_TOKEN", "secret_name": "api"}
        config = {"url": srv.url("/orders") + "?access_token=" + SECRET, "auth": auth}
        proc, _ = extract(tmp_path, config, env={"API_TOKEN": SECRET})
    assert proc.returncode == 2
    assert failure(proc) == (
        f"GET {srv.url('/orders')}?access_token=*** returned 401 Unauthorized "
        """('{"error": "bad token"}'); check the credentials in API_TOKEN; not retried"""
    )
    assert len(srv.received) == 1
    assert SECRET not in proc.stdout + proc.stderr


def test_missing_credentials_variable_is_a_usage_error(tmp_path: Path) -> None:
    auth = {"type": "bearer", "token_env": "FERRY_TEST_UNSET_TOKEN", "secret_name": "api"}
    proc, _ = extract(tmp_path, {"url": "http://127.0.0.1:9/orders", "auth": auth})
    assert proc.returncode == 2
    assert failure(proc) == (
        "environment variable FERRY_TEST_UNSET_TOKEN (HTTP credentials) is not set; set it or "
        "check the Secret it is rendered from"
    )


def test_404_fails_at_once(tmp_path: Path) -> None:
    with serve({}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/nope")})
    assert proc.returncode == 2
    assert failure(proc) == (
        f'GET {srv.url("/nope")} returned 404 Not Found (\'{{"error": "no such route"}}\'); '
        "check url and method; not retried"
    )
    assert len(srv.received) == 1


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        (400, "check url, params and the request body"),
        (403, "the API wants credentials: configure auth"),
        (405, "check url and method"),
        (410, "check url and method"),
        (422, "check url, params and the request body"),
        (409, "check url, params and the request body"),
    ],
)
def test_client_errors_exit_2_after_one_request(tmp_path: Path, status: int, advice: str) -> None:
    with serve({"/orders": script(Reply(status, {"e": status}), Reply(json=orders(1)))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders")})
    assert proc.returncode == 2, proc.stderr
    assert failure(proc).endswith(f"; {advice}; not retried")
    assert len(srv.received) == 1
    assert events(proc, "http_retry") == []


def test_safe_url_drops_userinfo_and_masks_secret_query_values() -> None:
    url = "https://u:pw@api.example.com:8443/x?page=2&api_key=abc&sig=zz&q=ok"
    assert (
        safe_url(url, ["ok"]) == "https://api.example.com:8443/x?page=2&api_key=***&sig=***&q=***"
    )


# --- retries ----------------------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(tmp_path: Path) -> None:
    times: list[float] = []
    replies = script(
        Reply(429, {"error": "slow down"}, headers={"Retry-After": "1"}), Reply(json=orders(1))
    )

    def handle(req: Received) -> Reply:
        times.append(time.monotonic())
        return replies(req)

    with serve({"/orders": handle}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders")})
    ok(proc)
    assert len(rows(out)) == 1
    assert times[1] - times[0] >= 0.95
    [retry] = events(proc, "http_retry")
    assert retry["reason"] == "last status 429 Too Many Requests" and retry["sleep_s"] == 1.0


def test_retry_after_http_date() -> None:
    from email.message import Message

    headers = Message()
    headers["Retry-After"] = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    wait = _retry_after(headers)
    assert wait is not None and 28 <= wait <= 30
    headers.replace_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
    assert _retry_after(headers) == 0.0


def test_5xx_then_success_is_retried(tmp_path: Path) -> None:
    replies = script(Reply(500, {"e": 1}), Reply(502, {"e": 2}), Reply(json=orders(2)))
    with serve({"/orders": replies}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders")})
    ok(proc)
    assert len(rows(out)) == 2 and len(srv.received) == 3
    assert [e["attempt"] for e in events(proc, "http_retry")] == [1, 2]


def test_500_then_200_succeeds(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(500, {"e": 1}), Reply(json=orders(2)))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders")})
    ok(proc)
    assert len(rows(out)) == 2 and len(srv.received) == 2
    [retry] = events(proc, "http_retry")
    assert retry["reason"] == "last status 500 Internal Server Error"


def test_408_is_retried(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(408, {"e": 1}), Reply(json=orders(1)))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders")})
    ok(proc)
    assert len(rows(out)) == 1 and len(srv.received) == 2


@pytest.mark.parametrize("drop", ["mid_body", "before"])
def test_dropped_connection_is_retried(tmp_path: Path, drop: str) -> None:
    replies = script(Reply(json=orders(50), drop=drop), Reply(json=orders(3)))
    with serve({"/orders": replies}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders")})
    ok(proc)
    assert len(rows(out)) == 3 and len(srv.received) == 2
    [retry] = events(proc, "http_retry")
    expected = "IncompleteRead" if drop == "mid_body" else "RemoteDisconnected"
    assert retry["reason"].startswith(f"last error: {expected}"), retry


def test_dropped_connections_fail_with_exit_1_when_retries_run_out(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(json=orders(50), drop="mid_body"))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "max_retries": 2})
    assert proc.returncode == 1
    assert failure(proc).startswith(
        f"GET {srv.url('/orders')} failed after 2 retries: last error: IncompleteRead"
    )
    assert len(srv.received) == 3


def test_persistent_503_fails_after_max_retries(tmp_path: Path) -> None:
    def handle(req: Received) -> Reply:
        n = int(req.query.get("page", "1"))
        return Reply(503, {"e": "down"}) if n == 3 else Reply(json=orders(n)[-1:])

    with serve({"/orders": handle}) as srv:
        config = {"url": srv.url("/orders"), "pagination": {"type": "page"}, "max_retries": 3}
        proc, out = extract(tmp_path, config)
    assert proc.returncode == 1
    assert failure(proc) == (
        f"GET {srv.url('/orders')}?page=3 failed after 3 retries: "
        "last status 503 Service Unavailable"
    )
    assert len(srv.received) == 2 + 4
    assert not (out / "_manifest.json").exists()


def test_timeout_is_retried_then_fails(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(json=orders(1), delay_s=1.0))}) as srv:
        config = {"url": srv.url("/orders"), "timeout_s": 0.2, "max_retries": 1}
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 1
    assert failure(proc) == (
        f"GET {srv.url('/orders')} failed after 1 retries: last error: timed out after 0.2 s"
    )


def test_connection_refused_fails_after_retries(tmp_path: Path) -> None:
    with serve({}) as srv:
        url = srv.url("/orders")
    proc, _ = extract(tmp_path, {"url": url, "max_retries": 1})
    assert proc.returncode == 1
    assert (
        failure(proc)
        == f"GET {url} failed after 1 retries: last error: [Errno 111] Connection refused"
    )


# --- bad bodies -------------------------------------------------------------------------


def test_html_instead_of_json(tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>" + b"x" * 100
    with serve({"/orders": script(Reply(raw=page, content_type="text/html"))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders")})
    assert proc.returncode == 1
    assert failure(proc) == (
        f"GET {srv.url('/orders')} returned 200 with content-type text/html, not JSON: "
        f"{page[:80].decode()!r}; check the url (an error or login page?)"
    )


def test_truncated_json(tmp_path: Path) -> None:
    body = b'{"data": [{"id": 1}, {"id": 2'
    with serve({"/orders": script(Reply(raw=body))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "records_path": "data"})
    assert proc.returncode == 1
    assert failure(proc) == (
        f"GET {srv.url('/orders')} returned 200 with invalid JSON: Expecting ',' delimiter at "
        "line 1 column 30 (char 29 of 29); the body is truncated or malformed, check the API"
    )


def test_records_path_missing(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(json={"items": []}))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "records_path": "data"})
    assert proc.returncode == 2
    assert failure(proc) == f"response of {srv.url('/orders')} has no 'data'; check records_path"


# --- schema -----------------------------------------------------------------------------


def _two_pages(second: list[dict[str, Any]]) -> dict[str, Any]:
    first = [{"id": 1, "amount": 10, "status": "paid"}, {"id": 2, "amount": 2.5, "status": None}]
    return {"/orders": lambda req: Reply(json=[first, second, []][int(req.query["page"]) - 1])}


def test_schema_drift_type_change_names_page_record_and_field(tmp_path: Path) -> None:
    second = [{"id": 3, "amount": 1.0, "status": "paid"}, {"id": "4", "amount": 1, "status": "x"}]
    with serve(_two_pages(second)) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "pagination": {"type": "page"}})
    assert proc.returncode == 3
    assert failure(proc) == (
        f"schema drift on page {srv.url('/orders')}?page=2, record index 1, field 'id': "
        'value "4" (string) is not int64 as on the first page; declare the column types in '
        "`columns`"
    )


def test_record_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(json=[{"id": 1}, [2]]))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders")})
    assert proc.returncode == 3
    assert failure(proc) == (
        f"page {srv.url('/orders')}, record index 1: a record is a JSON list, not an object; "
        "check records_path"
    )


def test_schema_drift_new_field_is_named(tmp_path: Path) -> None:
    second = [{"id": 3, "amount": 1.0, "status": "paid", "coupon": "X", "note": None}]
    with serve(_two_pages(second)) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/orders"), "pagination": {"type": "page"}})
    assert proc.returncode == 3
    assert failure(proc) == (
        f"schema drift on page {srv.url('/orders')}?page=2, record index 0: new fields "
        "'coupon', 'note' not on the first page; declare the column types in `columns`"
    )


def test_first_page_ints_then_floats_widen_and_nulls_are_strings(tmp_path: Path) -> None:
    with serve(_two_pages([{"id": 3, "amount": 7, "status": "new"}])) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "pagination": {"type": "page"}})
    ok(proc)
    assert str(read(out).schema) == "id: int64\namount: double\nstatus: string"
    assert [r["amount"] for r in rows(out)] == [10.0, 2.5, 7.0]


def test_declared_columns_convert_project_and_keep_nested_as_json(tmp_path: Path) -> None:
    records = [
        {"id": "7", "at": "2026-11-01T10:00:00+02:00", "day": "2026-11-01", "price": "12.30",
         "local": "2026-11-01T10:00:00", "tags": ["a", "b"], "meta": {"k": 1}, "unused": True},
    ]  # fmt: skip
    columns = {
        "id": "int32",
        "at": "timestamp[tz=UTC]",
        "day": "date",
        "price": "decimal(10,2)",
        "local": "timestamp[tz=Europe/Berlin]",
        "tags": "string",
        "meta": "string",
        "missing": "float64",
    }
    with serve({"/orders": script(Reply(json=records))}) as srv:
        proc, out = extract(tmp_path, {"url": srv.url("/orders"), "columns": columns})
    ok(proc)
    [row] = rows(out)
    assert row["id"] == 7 and str(row["price"]) == "12.30" and row["missing"] is None
    assert row["at"] == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert str(row["day"]) == "2026-11-01"
    assert row["local"].astimezone(UTC) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert row["tags"] == '["a","b"]' and row["meta"] == '{"k":1}'
    assert str(read(out).schema).splitlines()[1] == "at: timestamp[us, tz=UTC]"
    [ignored] = events(proc, "fields_ignored")
    assert ignored["fields"] == ["unused"]


def test_declared_column_value_that_does_not_fit_fails(tmp_path: Path) -> None:
    records = [{"price": "1.5"}, {"price": "12.345"}]
    with serve({"/orders": script(Reply(json=records))}) as srv:
        config = {"url": srv.url("/orders"), "columns": {"price": "decimal(10,2)"}}
        proc, _ = extract(tmp_path, config)
    assert proc.returncode == 3
    assert failure(proc) == (
        f"page {srv.url('/orders')}, record index 1, field 'price': value \"12.345\" does not "
        "fit decimal(10,2) without rounding; fix the declared type in `columns` or the data "
        "at the source"
    )


def test_unknown_column_type_is_a_config_error(tmp_path: Path) -> None:
    proc, _ = extract(tmp_path, {"url": "http://127.0.0.1:9/x", "columns": {"a": "varchar"}})
    assert proc.returncode == 2
    assert failure(proc) == (
        "invalid extract-http config at columns: Value error, column 'a': unknown type "
        "'varchar'; use one of: string, int32, int64, float32, float64, bool, date, timestamp, "
        "timestamp[tz=UTC] (or another IANA zone), decimal(precision,scale)"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"url": "ftp://h/x"}, "url must be http:// or https:// with a host, got 'ftp://h/x'"),
        ({"url": "https://u:p@h/x"}, "url must not carry credentials (user:password@); use auth"),
        ({"url": "https://h/x", "json_body": {"a": 1}}, "json_body needs method POST"),
        (
            {"url": "https://h/x", "headers": {"Authorization": "x"}},
            "header 'Authorization' carries",
        ),
        ({"url": "https://h/x", "cursor_param": "since"}, "cursor_param/cursor_end_param need a"),
        (
            {"url": "https://h/x", "cursor": {"field": "at"}, "columns": {"id": "int64"}},
            "cursor field 'at' is not among the declared columns",
        ),
        (
            {
                "url": "https://h/x",
                "cursor": {"field": "at", "primary_key": ["id", "k"]},
                "columns": {"id": "int64", "at": "string"},
            },
            "cursor primary_key column(s) 'k' not among the declared columns",
        ),
        ({"url": "https://h/x", "pagination": {"type": "pages"}}, "does not match any of the"),
    ],
)
def test_config_errors(config: dict[str, Any], message: str) -> None:
    from pydantic import ValidationError

    from steps.extract.http.config import HttpExtract

    with pytest.raises(ValidationError) as err:
        HttpExtract.model_validate(config)
    assert message in str(err.value)


def test_empty_result_with_declared_columns_keeps_the_schema(tmp_path: Path) -> None:
    with serve({"/orders": script(Reply(json=[]))}) as srv:
        config = {"url": srv.url("/orders"), "columns": {"id": "int64", "at": "timestamp"}}
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert read(out).rows == 0
    assert str(read(out).schema) == "id: int64\nat: timestamp[us]"


# --- incremental ------------------------------------------------------------------------

_EVENTS = [{"id": i, "updated_at": f"2026-11-01T0{i}:00:00Z"} for i in range(1, 8)]


def _incremental_routes(events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An API whose ``since`` is inclusive and ``until`` exclusive (ISO text compared)."""
    data = _EVENTS if events is None else events

    def handle(req: Received) -> Reply:
        since, until = req.query.get("since", ""), req.query.get("until", "~")
        return Reply(json={"data": [e for e in data if since <= e["updated_at"] < until]})

    return {"/events": handle}


def commit_state(tmp_path: Path, run_id: str) -> subprocess.CompletedProcess[str]:
    store = tmp_path / "store"
    proc = run_step(
        "commit-state",
        "--pipeline", "shop",
        "--step", "commit-state",
        "--run-id", run_id,
        "--store", str(store),
        "--input", f"orders={store / 'artifacts' / run_id / 'orders'}",
        "--config", json.dumps({"sources": ["orders"]}),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs-commit")},
    )  # fmt: skip
    ok(proc)
    return proc


def boundary_duplicates(proc: subprocess.CompletedProcess[str]) -> int:
    [event] = events(proc, "cursor_boundary_duplicates")
    return int(event["rows"])


def test_incremental_runs_read_late_records_at_the_mark_once(tmp_path: Path) -> None:
    data = [dict(e) for e in _EVENTS]
    cursor = {"field": "updated_at", "initial_value": "2026-11-01T02:00:00Z", "primary_key": ["id"]}
    with serve(_incremental_routes(data)) as srv:
        config = {"url": srv.url("/events"), "records_path": "data", "cursor": cursor,
                  "cursor_param": "since"}  # fmt: skip
        proc, out = extract(tmp_path, config, run_id="r1")
        ok(proc)
        assert srv.received[-1].query == {"since": "2026-11-01T02:00:00Z"}
        assert [r["id"] for r in rows(out)] == [2, 3, 4, 5, 6, 7]
        manifest = read(out).manifest["cursor"]
        assert (manifest["value"], manifest["keys_count"]) == ("2026-11-01T07:00:00Z", 1)
        commit_state(tmp_path, "r1")

        data += [{"id": 8, "updated_at": "2026-11-01T07:00:00Z"},
                 {"id": 9, "updated_at": "2026-11-01T08:00:00Z"}]  # fmt: skip
        proc, out = extract(tmp_path, config, run_id="r2")
        ok(proc)
        assert srv.received[-1].query == {"since": "2026-11-01T07:00:00Z"}  # inclusive
        assert [r["id"] for r in rows(out)] == [8, 9]
        assert boundary_duplicates(proc) == 1
        assert (tmp_path / "outputs-r2" / "rows_in").read_text() == "2"
        [finished] = events(proc, "extract_finished")
        assert finished["records_received"] == 3 and finished["boundary_duplicates"] == 1
        assert read(out).manifest["cursor"]["value"] == "2026-11-01T08:00:00Z"
        commit_state(tmp_path, "r2")

        proc, out = extract(tmp_path, config, run_id="r3")
    ok(proc)
    assert read(out).rows == 0
    assert boundary_duplicates(proc) == 1
    assert read(out).manifest["cursor"]["value"] == "2026-11-01T08:00:00Z"


def test_api_ignoring_the_bound_still_yields_each_record_once(tmp_path: Path) -> None:
    """Records below the bound are dropped client-side and counted as outside the window."""
    with serve({"/events": script(Reply(json={"data": _EVENTS}))}) as srv:
        config = {"url": srv.url("/events"), "records_path": "data",
                  "cursor": {"field": "updated_at"}, "cursor_param": "since"}  # fmt: skip
        ok(extract(tmp_path, config, run_id="r1")[0])
        commit_state(tmp_path, "r1")
        proc, out = extract(tmp_path, config, run_id="r2")
    ok(proc)
    assert read(out).rows == 0
    [finished] = events(proc, "extract_finished")
    assert finished["records_outside_window"] == 6 and finished["boundary_duplicates"] == 1


def test_incremental_lag_rereads_late_records_once(tmp_path: Path) -> None:
    data = [dict(e) for e in _EVENTS]
    cursor = {"field": "updated_at", "primary_key": ["id"], "lag": 7200}
    with serve(_incremental_routes(data)) as srv:
        config = {"url": srv.url("/events"), "records_path": "data", "cursor": cursor,
                  "cursor_param": "since",
                  "columns": {"id": "int64", "updated_at": "timestamp[tz=UTC]"}}  # fmt: skip
        ok(extract(tmp_path, config, run_id="r1")[0])
        commit_state(tmp_path, "r1")
        data += [{"id": 10, "updated_at": "2026-11-01T05:30:00Z"},  # within the lag
                 {"id": 11, "updated_at": "2026-11-01T04:30:00Z"},  # too late for it
                 {"id": 12, "updated_at": "2026-11-01T07:00:00Z"}]  # fmt: skip
        data.sort(key=lambda e: e["updated_at"])
        proc, out = extract(tmp_path, config, run_id="r2")
        ok(proc)
        assert srv.received[-1].query == {"since": "2026-11-01T05:00:00Z"}
        assert sorted(r["id"] for r in rows(out)) == [10, 12]
        assert boundary_duplicates(proc) == 3  # 5, 6 and 7 again
        commit_state(tmp_path, "r2")
        proc, out = extract(tmp_path, config, run_id="r3")
    ok(proc)
    assert read(out).rows == 0
    assert boundary_duplicates(proc) == 5


def test_explicit_window_is_stateless(tmp_path: Path) -> None:
    cursor = {"field": "updated_at", "primary_key": ["id"]}
    with serve(_incremental_routes()) as srv:
        config = {"url": srv.url("/events"), "records_path": "data", "cursor": cursor,
                  "cursor_param": "since", "cursor_end_param": "until"}  # fmt: skip
        ok(extract(tmp_path, config, run_id="r1")[0])
        commit_state(tmp_path, "r1")
        state = tmp_path / "store" / "state" / "shop" / "orders.json"
        before = state.read_bytes()
        window = {**cursor, "window_start": "2026-11-01T02:00:00Z",
                  "window_end": "2026-11-01T05:00:00Z"}  # fmt: skip
        proc, out = extract(tmp_path, {**config, "cursor": window}, run_id="r2")
        ok(proc)
        assert srv.received[-1].query == {
            "since": "2026-11-01T02:00:00Z",
            "until": "2026-11-01T05:00:00Z",
        }
    assert [r["id"] for r in rows(out)] == [2, 3, 4]
    assert read(out).manifest["cursor"]["stateless"] is True
    proc = commit_state(tmp_path, "r2")
    assert events(proc, "state_unchanged")[0]["reason"] == "explicit window"
    assert state.read_bytes() == before


def test_incremental_end_value_bounds_the_window(tmp_path: Path) -> None:
    cursor = {"field": "updated_at", "initial_value": "2026-11-01T02:00:00Z",
              "end_value": "2026-11-01T05:00:00+00:00"}  # fmt: skip
    with serve(_incremental_routes()) as srv:
        config = {"url": srv.url("/events"), "records_path": "data", "cursor": cursor,
                  "cursor_param": "since", "cursor_end_param": "until"}  # fmt: skip
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert [r["id"] for r in rows(out)] == [2, 3, 4]
    assert srv.received[0].query["until"] == "2026-11-01T05:00:00+00:00"
    assert read(out).manifest["cursor"]["value"] == "2026-11-01T04:00:00Z"


def test_numeric_text_cursor_compares_as_numbers(tmp_path: Path) -> None:
    records = [{"id": i, "seq": str(i)} for i in (8, 9, 10, 11)]
    with serve({"/events": script(Reply(json=records))}) as srv:
        config = {"url": srv.url("/events"), "cursor": {"field": "seq", "initial_value": "9"}}
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert [r["id"] for r in rows(out)] == [9, 10, 11]
    assert read(out).manifest["cursor"]["value"] == "11"


def test_incremental_without_state_or_rows_has_no_mark(tmp_path: Path) -> None:
    with serve({"/events": script(Reply(json=[]))}) as srv:
        config = {"url": srv.url("/events"), "cursor": {"field": "updated_at"},
                  "columns": {"updated_at": "string"}}  # fmt: skip
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert read(out).manifest["cursor"]["value"] is None
    proc = commit_state(tmp_path, "r1")
    assert events(proc, "state_unchanged")[0]["reason"] == "no rows yet"


def test_incremental_null_cursor_is_skipped_and_counted(tmp_path: Path) -> None:
    records = [{"id": 1, "updated_at": None}, {"id": 2, "updated_at": "2026-11-01T01:00:00Z"},
               {"id": 3}]  # fmt: skip
    with serve({"/events": script(Reply(json=records))}) as srv:
        config = {"url": srv.url("/events"), "cursor": {"field": "updated_at"},
                  "columns": {"id": "int64", "updated_at": "string"}}  # fmt: skip
        proc, out = extract(tmp_path, config)
    ok(proc)
    assert [r["id"] for r in rows(out)] == [2]
    [skipped] = events(proc, "cursor_nulls_skipped")
    assert skipped["rows"] == 2 and skipped["level"] == "warning"
    assert read(out).manifest["cursor"]["nulls_skipped"] == 2
    assert (tmp_path / "outputs-r1" / "rows_in").read_text() == "1"


def test_incremental_cursor_field_not_in_the_records_fails(tmp_path: Path) -> None:
    with serve({"/events": script(Reply(json=[{"id": 1, "at": "x"}]))}) as srv:
        proc, _ = extract(tmp_path, {"url": srv.url("/events"), "cursor": {"field": "updated_at"}})
    assert proc.returncode == 3
    assert failure(proc) == (
        "cursor field 'updated_at' is not a column of the result (columns: id, at); fix "
        "cursor.field or the query"
    )


# --- demo API ---------------------------------------------------------------------------


def test_demo_api_serves_orders_to_the_extract_with_bearer_auth(tmp_path: Path) -> None:
    server = make_server(port=0, orders=23, seed=3, token=SECRET)
    serve_in_thread(server)
    try:
        config = {
            "url": f"{server.base_url}/orders",
            "params": {"per_page": "10"},
            "records_path": "data",
            "pagination": {"type": "next_link", "next_path": "next"},
            "auth": {"type": "bearer", "token_env": "DEMO_TOKEN", "secret_name": "demo-api"},
            "cursor": {"field": "updated_at"},
            "cursor_param": "updated_since",
        }
        proc, out = extract(tmp_path, config, env={"DEMO_TOKEN": SECRET})
        ok(proc)
        assert rows(out) == demo_orders(23, seed=3)
        assert len(events(proc, "page_fetched")) == 3
        assert read(out).manifest["cursor"]["value"] == demo_orders(23, seed=3)[-1]["updated_at"]
        proc, _ = extract(tmp_path, config, env={"DEMO_TOKEN": "wrong"}, run_id="r2")
        assert proc.returncode == 2 and "401 Unauthorized" in failure(proc)
    finally:
        server.shutdown()
        server.server_close()


def test_demo_orders_are_deterministic() -> None:
    assert demo_orders(50, seed=1) == demo_orders(50, seed=1)
    assert demo_orders(50, seed=1) != demo_orders(50, seed=2)
    stamps = [o["updated_at"] for o in demo_orders(50, seed=1)]
    assert stamps == sorted(stamps)
    assert set(demo_orders(1, seed=1)[0]) == {
        "order_id", "customer_id", "updated_at", "status", "amount", "currency"
    }  # fmt: skip


def test_demo_api_help_has_an_example() -> None:
    result = CliRunner().invoke(demo_api, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_demo_api_command_serves_until_stopped() -> None:
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ferry"), "demo-api", "--port", "0", "--orders", "3"],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "FERRY_DEMO_API_TOKEN"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = line.split(" at ", 1)[1].split("/orders", 1)[0]
        from urllib.request import urlopen

        with urlopen(f"{base}/orders?per_page=2", timeout=5) as reply:
            body = json.loads(reply.read())
        assert [o["order_id"] for o in body["data"]] == [1, 2]
        assert body["next"] == "/orders?per_page=2&page=2"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
