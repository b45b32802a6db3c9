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
from urllib.request import Request, urlopen

from steps.extract.http.config import ApiKeyAuth, BasicAuth, BearerAuth, HttpExtract
from steps.extract.http.urls import mask_secrets, safe_url
from steps.runtime.errors import StepError, StepUsageError
from steps.runtime.log import EventLog

_SNIPPET = 80

# 4xx statuses that may pass on a retry: request timeout, too many requests.
_RETRIED_4XX = frozenset({408, 429})
# Statuses whose Retry-After header says when to come back.
_RETRY_AFTER = frozenset({429, 503})


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
        return err.read()
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
        self._headers = {"Accept": "application/json", **config.headers, **credentials}
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

    def get(self, url: str) -> Response:
        """Send the request to ``url`` (retrying what may pass) and parse the JSON body.

        Raises:
            StepUsageError: a 4xx other than 408 and 429 (exit 2, not retried).
            StepError: retries exhausted or a body that is not JSON (exit 1).
        """
        cfg = self._config
        last = ""
        for attempt in range(cfg.max_retries + 1):
            self._throttle()
            wait: float | None = None
            started = time.monotonic()
            try:
                request = Request(url, data=self._body, headers=self._headers, method=cfg.method)
                with urlopen(request, timeout=cfg.timeout_s) as reply:
                    body = reply.read()
                    return Response(
                        url=url,
                        status=reply.status,
                        headers=reply.headers,
                        document=self._parse(url, reply.status, reply.headers, body),
                        request_s=round(time.monotonic() - started, 3),
                    )
            except HTTPError as err:
                status = err.code
                if status < 500 and status not in _RETRIED_4XX:
                    raise self._client_error(url, status, err.reason, _error_body(err)) from None
                last = f"last status {status} {_phrase(status, err.reason)}"
                wait = _retry_after(err.headers) if status in _RETRY_AFTER else None
            except TimeoutError:
                last = f"last error: timed out after {cfg.timeout_s:g} s"
            except URLError as err:
                if isinstance(err.reason, TimeoutError):
                    last = f"last error: timed out after {cfg.timeout_s:g} s"
                else:
                    last = f"last error: {mask_secrets(str(err.reason), self._secrets)}"
            except (http.client.HTTPException, ConnectionError) as err:
                last = f"last error: {type(err).__name__}: {mask_secrets(str(err), self._secrets)}"
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
