"""The bounded webhook POST: a few attempts, each under a wall-time deadline.

Connection errors, timeouts, 408, 429 and 5xx are tried again after a capped,
jittered backoff (429 and 503 honour ``Retry-After`` up to the cap); any other 4xx
and redirects are answers a retry would get again, so they end the delivery at
once. Delivery never raises: the result says whether it arrived and why not, and
the step turns a failure into a warning, because an unreachable chat must not fail
a run. The URL is a secret (a Slack webhook's path is its credential): no reason
names it, and any text from the receiver is masked for it before it is kept.
"""

import http.client
import random
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from steps.extract.http.transport import Deadline, opener
from steps.extract.http.urls import mask_secrets
from steps.runtime.log import EventLog

BACKOFF_INITIAL_S = 0.5
"""Backoff bound before the second attempt; it doubles per attempt."""

BACKOFF_CAP_S = 5.0
"""No wait between attempts is longer than this, ``Retry-After`` included."""

_RETRIED_4XX = frozenset({408, 429})
_RETRY_AFTER = frozenset({429, 503})
_SNIPPET = 80
"""Characters of a refusing receiver's answer kept in the reason."""


@dataclass(frozen=True)
class Delivery:
    """How the POST ended: delivered or not, after how many attempts, and why not."""

    delivered: bool
    attempts: int
    status: int | None
    reason: str


class _Retry(Exception):
    """An attempt failed in a way a later one may not; ``wait`` is a Retry-After, if any."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait


class _Refused(Exception):
    """The receiver gave an answer a retry would get again."""

    def __init__(self, reason: str, status: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook (without repeating it), or None when it can."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "it does not parse as a URL"
    if parts.scheme not in ("http", "https"):
        return "it is not an http:// or https:// URL"
    if not host:
        return "it names no host"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "it holds spaces or control characters"
    return None


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _retry_after(err: HTTPError) -> float | None:
    value = err.headers.get("Retry-After") if err.headers is not None else None
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class Webhook:
    """Posts JSON bodies to one secret URL within ``timeout_s`` per attempt."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        max_attempts: int,
        log: EventLog,
    ) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._log = log
        parts = urlsplit(url)
        self._secrets = sorted(
            {url, parts.netloc, parts.path, parts.query} - {"", "/"}, key=len, reverse=True
        )

    def _masked(self, text: str) -> str:
        return mask_secrets(" ".join(text.split()), self._secrets)

    def post(self, body: bytes) -> Delivery:
        """POST ``body`` as ``application/json``; retry what may pass; never raise."""
        reason, status = "", None
        for attempt in range(1, self._max_attempts + 1):
            try:
                status = self._attempt(body)
            except _Retry as err:
                reason, status, wait = err.reason, err.status, err.wait
            except _Refused as err:
                return Delivery(False, attempt, err.status, err.reason)
            else:
                return Delivery(True, attempt, status, "")
            if attempt == self._max_attempts:
                break
            bound = min(BACKOFF_CAP_S, BACKOFF_INITIAL_S * 2 ** (attempt - 1))
            pause = min(BACKOFF_CAP_S, wait) if wait is not None else random.uniform(0, bound)
            self._log.event(
                "webhook_retry",
                level="warning",
                attempt=attempt,
                reason=reason,
                sleep_s=round(pause, 3),
            )
            time.sleep(pause)
        return Delivery(False, self._max_attempts, status, reason)

    def _attempt(self, body: bytes) -> int:
        """One POST under the deadline: its 2xx status; raises _Retry or _Refused otherwise."""
        headers = {"Content-Type": "application/json", "User-Agent": "ferry-notify"}
        timed_out = f"no answer within {self._timeout_s:g} s"
        with Deadline(self._timeout_s) as deadline:
            try:
                request = Request(self._url, data=body, headers=headers, method="POST")
                with opener(deadline).open(request, timeout=self._timeout_s) as reply:
                    reply.read(_SNIPPET)
                    status = int(reply.status)
            except HTTPError as err:
                if deadline.expired:
                    raise _Retry(timed_out) from None
                raise self._answer(err) from None
            except (ValueError, http.client.InvalidURL) as err:  # a URL http.client refuses
                raise _Refused(self._masked(f"{type(err).__name__}: {err}"), None) from None
            except (TimeoutError, URLError, http.client.HTTPException, OSError) as err:
                if deadline.expired or isinstance(err, TimeoutError):
                    raise _Retry(timed_out) from None
                if isinstance(err, URLError) and isinstance(err.reason, TimeoutError):
                    raise _Retry(timed_out) from None
                cause = err.reason if isinstance(err, URLError) else err
                raise _Retry(self._masked(f"{type(cause).__name__}: {cause}")) from None
            if deadline.expired:
                raise _Retry(timed_out)
        return status

    def _answer(self, err: HTTPError) -> "_Retry | _Refused":
        """What a non-2xx answer means: try again (408, 429, 5xx) or stop."""
        status = err.code
        try:
            said = err.read(_SNIPPET).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            said = ""
        finally:
            err.close()
        shown = f" ({self._masked(said)!r})" if said.strip() else ""
        if status >= 500 or status in _RETRIED_4XX:
            wait = _retry_after(err) if status in _RETRY_AFTER else None
            return _Retry(f"last status {_phrase(status)}{shown}", status, wait)
        if 300 <= status < 400:
            return _Refused(
                f"answered {_phrase(status)} (redirects are not followed); check the webhook URL",
                status,
            )
        return _Refused(f"answered {_phrase(status)}{shown}; not retried", status)
