"""One HTTP request with retries, backoff, rate limiting and readable failures.

Retried inside the step, with exponential backoff and full jitter: 408, 429 and 5xx
(429 and 503 honour ``Retry-After``, seconds or an HTTP date), timeouts, refused,
reset or dropped connections and incomplete bodies. When the retries are used up
the step fails with exit 1, so the workflow's retry may try again later.

Not retried, neither here nor by the workflow (exit 2, the request is wrong): every
other 4xx, e.g. 400 bad request, 401/403 credentials, 404/405/410 wrong URL or
method, 422 params or body the API refuses. Bodies that are not JSON fail with exit 1.
Every message shows the URL through :func:`~steps.extract.http.urls.safe_url`, so
credentials never reach a log.
"""

import base64
import http.client
import json
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import Request

from steps.extract.http.config import ApiKeyAuth, BasicAuth, BearerAuth, HttpExtract
from steps.extract.http.transport import (
    BadEncoding,
    BodyTooLarge,
    Deadline,
    Truncated,
    UnknownEncoding,
    check_length,
    opener,
    read_body,
)
from steps.extract.http.urls import mask_secrets, origin, safe_url
from steps.runtime.errors import StepError, StepUsageError
from steps.runtime.log import EventLog

_SNIPPET = 80

# 4xx statuses that may pass on a retry: request timeout, too many requests.
_RETRIED_4XX = frozenset({408, 429})
# Statuses whose Retry-After header says when to come back.
_RETRY_AFTER = frozenset({429, 503})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# At most this much of an error response is read, for the message.
_ERROR_BODY = 4096


class _Transient(Exception):
    """An attempt failed in a way a retry may clear; ``wait`` is a Retry-After, if any."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def _size(n: int) -> str:
    """``n`` bytes, with MiB when that reads better."""
    return f"{n} bytes = {n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


@dataclass(frozen=True)
class Response:
    """A successful response: where it came from, its status, headers and parsed JSON."""

    url: str
    status: int
    headers: Message
    document: Any
    request_s: float


def _phrase(status: int, reason: str) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return reason


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_body(err: HTTPError) -> bytes:
    """The body of an error response, or nothing when it cannot be read."""
    try:
        return err.read(_ERROR_BODY)
    except (OSError, http.client.HTTPException):
        return b""


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise StepUsageError(
            f"environment variable {name} (HTTP credentials) is not set; set it or check the "
            "Secret it is rendered from"
        )
    return value


def auth_headers(config: HttpExtract) -> dict[str, str]:
    """The request headers that carry the configured credentials, read from the environment."""
    auth = config.auth
    if isinstance(auth, BearerAuth):
        return {"Authorization": f"Bearer {_env(auth.token_env)}"}
    if isinstance(auth, BasicAuth):
        pair = f"{_env(auth.username_env)}:{_env(auth.password_env)}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}
    if isinstance(auth, ApiKeyAuth):
        return {auth.header: _env(auth.value_env)}
    return {}


class HttpClient:
    """Sends the step's requests: auth, headers, body, retries, rate limit."""

    def __init__(self, config: HttpExtract, log: EventLog) -> None:
        self._config = config
        self._log = log
        credentials = auth_headers(config)
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            **config.headers,
            **credentials,
        }
        self._credential_names = {name.lower() for name in credentials}
        self._origin = origin(config.url)
        self._withheld: set[tuple[str, str, int]] = set()
        self.requests = 0
        """Requests sent so far (pages, retries and redirects), bounded by ``max_requests``."""
        self._secrets = [*credentials.values()]
        if isinstance(config.auth, BasicAuth):
            self._secrets += [
                os.environ[config.auth.username_env],
                os.environ[config.auth.password_env],
            ]
        self._body: bytes | None = None
        if config.method == "POST":
            self._body = json.dumps(config.json_body or {}).encode("utf-8")
            self._headers["Content-Type"] = "application/json"
        self._next_slot = 0.0

    def safe(self, url: str) -> str:
        """``url`` as it may appear in logs and errors."""
        return safe_url(url, self._secrets)

    def _throttle(self) -> None:
        rate = self._config.rate_limit_per_s
        if rate is None:
            return
        now = time.monotonic()
        if now < self._next_slot:
            time.sleep(self._next_slot - now)
        self._next_slot = max(now, self._next_slot) + 1.0 / rate

    def _backoff(self, attempt: int) -> float:
        cfg = self._config
        return random.uniform(0, min(cfg.backoff_max_s, cfg.backoff_initial_s * 2**attempt))

    def _client_error(self, url: str, status: int, reason: str, body: bytes) -> StepUsageError:
        """A 4xx that a retry would get again: the URL, credentials or request are wrong."""
        where = (
            f"{self._config.method} {self.safe(url)} returned {status} {_phrase(status, reason)}"
        )
        snippet = mask_secrets(body[:_SNIPPET].decode("utf-8", "replace"), self._secrets)
        shown = f" ({snippet!r})" if snippet else ""
        if status in (401, 403):
            envs = [s.env for s in self._config.secret_envs()]
            advice = (
                f"check the credentials in {', '.join(envs)}"
                if envs
                else "the API wants credentials: configure auth"
            )
        elif status in (404, 405, 410):
            advice = "check url and method"
        else:
            advice = "check url, params and the request body"
        return StepUsageError(f"{where}{shown}; {advice}; not retried")

    def _headers_for(self, url: str) -> dict[str, str]:
        """The headers for a request to ``url``: credentials only for the origin of ``url``."""
        if not self._credential_names or origin(url) == self._origin:
            return self._headers
        where = origin(url)
        if where not in self._withheld:
            self._withheld.add(where)
            self._log.event(
                "credentials_withheld",
                level="warning",
                url=self.safe(url),
                reason=f"{where[0]}://{where[1]}:{where[2]} is not the origin of url",
            )
        return {k: v for k, v in self._headers.items() if k.lower() not in self._credential_names}

    def _count(self, url: str) -> None:
        if self.requests >= self._config.max_requests:
            raise StepUsageError(
                f"{self._config.method} {self.safe(url)} would be request "
                f"{self.requests + 1}, over max_requests ({self._config.max_requests}); the "
                "source pages further than that: raise max_requests, or set "
                "pagination.max_pages to stop early"
            )
        self.requests += 1

    def get(self, url: str) -> Response:
        """Send the request to ``url`` (retrying what may pass) and parse the JSON body.

        Redirects are followed up to ``max_redirects``; credentials go only to the
        origin of the configured ``url``.

        Raises:
            StepUsageError: a 4xx other than 408 and 429, a body over
                ``max_response_bytes``, too many redirects or requests (exit 2).
            StepError: retries exhausted, a ``Retry-After`` over ``retry_after_max_s``
                or a body that is not JSON (exit 1).
        """
        cfg = self._config
        last = ""
        for attempt in range(cfg.max_retries + 1):
            started = time.monotonic()
            try:
                return self._attempt(url, started)
            except _Transient as err:
                last, wait = err.reason, err.wait
            if attempt == cfg.max_retries:
                break
            sleep_s = wait if wait is not None else self._backoff(attempt)
            self._log.event(
                "http_retry",
                level="warning",
                url=self.safe(url),
                attempt=attempt + 1,
                reason=last,
                sleep_s=round(sleep_s, 3),
            )
            time.sleep(sleep_s)
        raise StepError(
            f"{cfg.method} {self.safe(url)} failed after {cfg.max_retries} retries: {last}"
        )

    def _attempt(self, url: str, started: float) -> Response:
        """One try at ``url``, following its redirects; :class:`_Transient` if it may pass later."""
        cfg = self._config
        target, method, body = url, cfg.method, self._body
        for hop in range(cfg.max_redirects + 1):
            self._throttle()
            self._count(target)
            sent = self._send(target, method, body, started)
            if isinstance(sent, Response):
                return sent
            status, location = sent
            following = urljoin(target, location)
            if urlsplit(following).scheme not in ("http", "https"):
                raise StepUsageError(
                    f"{method} {self.safe(target)} redirected ({status}) to "
                    f"{self.safe(following)}, not an http:// or https:// URL; check url"
                )
            if hop == cfg.max_redirects:
                raise StepUsageError(
                    f"{cfg.method} {self.safe(url)} redirected more than {cfg.max_redirects} "
                    f"times (the last to {self.safe(following)}); check url for a redirect "
                    "loop, or raise max_redirects"
                )
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
            self._log.event(
                "http_redirect",
                url=self.safe(target),
                status=status,
                location=self.safe(following),
                credentials="sent" if origin(following) == self._origin else "withheld",
            )
            target = following
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, url: str, method: str, body: bytes | None, started: float
    ) -> "Response | tuple[int, str]":
        """One request under the deadline: the response, or a redirect's (status, Location)."""
        cfg = self._config
        headers = self._headers_for(url)
        if body is None:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        deadline_passed = f"last error: request deadline of {cfg.request_deadline_s:g} s passed"
        with Deadline(cfg.request_deadline_s) as deadline:
            try:
                request = Request(url, data=body, headers=headers, method=method)
                with opener(deadline).open(request, timeout=cfg.timeout_s) as reply:
                    check_length(reply.headers.get("Content-Length"), cfg.max_response_bytes)
                    raw = read_body(
                        reply, cfg.max_response_bytes, reply.headers.get("Content-Encoding")
                    )
                    status, reply_headers = reply.status, reply.headers
                if deadline.expired:
                    raise _Transient(deadline_passed)
            except HTTPError as err:
                if deadline.expired:
                    raise _Transient(deadline_passed) from None
                status = err.code
                if status in _REDIRECTS:
                    location = err.headers.get("Location") if err.headers is not None else None
                    err.close()
                    if not location:
                        raise StepUsageError(
                            f"{method} {self.safe(url)} returned {status} "
                            f"{_phrase(status, err.reason)} without a Location header; check url"
                        ) from None
                    return status, location
                if status < 500 and status not in _RETRIED_4XX:
                    raise self._client_error(url, status, err.reason, _error_body(err)) from None
                err.close()
                wait = _retry_after(err.headers) if status in _RETRY_AFTER else None
                if wait is not None and wait > cfg.retry_after_max_s:
                    raise StepError(
                        f"{method} {self.safe(url)} returned {status} "
                        f"{_phrase(status, err.reason)} with Retry-After {wait:.0f} s, over "
                        f"retry_after_max_s ({cfg.retry_after_max_s:g} s); not waiting that "
                        "long: the workflow's retry comes back later (or raise "
                        "retry_after_max_s)"
                    ) from None
                last = f"last status {status} {_phrase(status, err.reason)}"
                raise _Transient(last, wait) from None
            except BodyTooLarge as err:
                raise StepUsageError(
                    f"{method} {self.safe(url)} returned a body over max_response_bytes "
                    f"({_size(cfg.max_response_bytes)}): {err.what}; raise max_response_bytes, "
                    "or ask for smaller pages (pagination page_size or limit)"
                ) from None
            except UnknownEncoding as err:
                raise StepUsageError(
                    f"{method} {self.safe(url)} answered with {err}; send an Accept-Encoding "
                    "header (headers) the step can decode"
                ) from None
            except BadEncoding as err:
                raise StepError(
                    f"{method} {self.safe(url)} returned a body that does not decode: {err}; "
                    "check the API"
                ) from None
            except (TimeoutError, URLError, http.client.HTTPException, Truncated, OSError) as err:
                if deadline.expired:
                    raise _Transient(deadline_passed) from None
                raise _Transient(self._reason(err)) from None
        return Response(
            url=url,
            status=status,
            headers=reply_headers,
            document=self._parse(url, status, reply_headers, raw),
            request_s=round(time.monotonic() - started, 3),
        )

    def _reason(self, err: Exception) -> str:
        """``err`` as the ``last error`` of a retried request, credentials masked."""
        cfg = self._config
        if isinstance(err, TimeoutError) or (
            isinstance(err, URLError) and isinstance(err.reason, TimeoutError)
        ):
            return f"last error: timed out after {cfg.timeout_s:g} s"
        if isinstance(err, URLError):
            return f"last error: {mask_secrets(str(err.reason), self._secrets)}"
        if isinstance(err, Truncated):
            return f"last error: {err}"
        return f"last error: {type(err).__name__}: {mask_secrets(str(err), self._secrets)}"

    def _parse(self, url: str, status: int, headers: Message, body: bytes) -> Any:
        content_type = headers.get_content_type() if headers.get("Content-Type") else "(none)"
        try:
            return json.loads(body)
        except ValueError as err:
            where = f"{self._config.method} {self.safe(url)} returned {status}"
            if "json" not in content_type or not isinstance(err, json.JSONDecodeError):
                snippet = mask_secrets(body[:_SNIPPET].decode("utf-8", "replace"), self._secrets)
                raise StepError(
                    f"{where} with content-type {content_type}, not JSON: {snippet!r}; check the "
                    "url (an error or login page?)"
                ) from None
            raise StepError(
                f"{where} with invalid JSON: {err.msg} at line {err.lineno} column {err.colno} "
                f"(char {err.pos} of {len(body)}); the body is truncated or malformed, "
                "check the API"
            ) from None
