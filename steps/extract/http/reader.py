"""Paging: the sequence of requests one extract makes, and the records of each page.

Each pagination style decides the next request from the current one and its
response. ``params`` (and the incremental bound) go on the first request of every
style; ``next_link`` and ``link_header`` then follow the server's URLs as given.

Paging that runs in a cycle fails (exit 2) instead of running until something else
stops it: a next URL or cursor token already used, or a page whose records equal an
earlier page's (an API that ignores the page or offset parameter answers the same
page for ever).
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from steps.extract.http.client import HttpClient, Response
from steps.extract.http.config import (
    CursorPagination,
    HttpExtract,
    NextLinkPagination,
    OffsetPagination,
    PagePagination,
)
from steps.extract.http.urls import with_query
from steps.runtime.errors import StepUsageError
from steps.runtime.log import EventLog

_MISSING = object()
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))""", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """One response and the records found in it."""

    number: int
    response: Response
    records: list[Any]


def dig(document: Any, path: str) -> Any:
    """The value at dotted ``path`` in ``document``, or a sentinel when absent."""
    value = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _records(document: Any, path: str | None, safe: str) -> list[Any]:
    found = document if path is None else dig(document, path)
    if found is _MISSING:
        raise StepUsageError(f"response of {safe} has no {path!r}; check records_path")
    if not isinstance(found, list):
        where = "the response" if path is None else repr(path)
        raise StepUsageError(
            f"{where} of {safe} is a JSON {type(found).__name__}, not a list of records; "
            "set records_path to the list"
        )
    return found


def next_link_header(response: Response) -> str | None:
    """The ``rel="next"`` target of the response's RFC 8288 ``Link`` headers, if any."""
    header = ", ".join(response.headers.get_all("Link") or [])
    for target, params in _LINK.findall(header):
        rel = _REL.search(params)
        if rel and "next" in (rel.group(1) or rel.group(2)).lower().split():
            return urljoin(response.url, target.strip())
    return None


def _next_link(pagination: NextLinkPagination, response: Response, safe: str) -> str | None:
    value = dig(response.document, pagination.next_path)
    if value is _MISSING or value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StepUsageError(
            f"next_path {pagination.next_path!r} in the response of {safe} is "
            f"{value!r}, not a URL; check pagination.next_path"
        )
    return urljoin(response.url, value)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _Seen:
    """What the paging has already visited: request URLs, cursor tokens, page contents.

    Kept as 16-byte digests with the page number, so memory stays small (at most one
    entry per request, which ``max_requests`` bounds).
    """

    def __init__(self) -> None:
        self._urls: dict[bytes, int] = {}
        self._tokens: dict[bytes, int] = {}
        self._pages: dict[bytes, int] = {}

    @staticmethod
    def _visit(table: dict[bytes, int], key: bytes, number: int) -> int | None:
        earlier = table.get(key)
        if earlier is None:
            table[key] = number
        return earlier

    def url(self, url: str, number: int) -> int | None:
        """The page that already had request ``url``, or None (and it is now page ``number``)."""
        return self._visit(self._urls, _digest(url), number)

    def token(self, token: str, number: int) -> int | None:
        """The page that already was requested with cursor ``token``, or None."""
        return self._visit(self._tokens, _digest(token), number)

    def records(self, records: list[Any], number: int) -> int | None:
        """The earlier page with exactly these (non-empty) records, or None."""
        if not records:
            return None
        text = json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return self._visit(self._pages, _digest(text), number)


def _ignored_param(pagination: object) -> str:
    if isinstance(pagination, PagePagination):
        return f" although {pagination.page_param!r} changed (does the API ignore it?)"
    if isinstance(pagination, OffsetPagination):
        return f" although {pagination.offset_param!r} changed (does the API ignore it?)"
    return ""


class PageReader:
    """Iterates the pages of one extract, starting from ``url`` with ``params``."""

    def __init__(self, config: HttpExtract, client: HttpClient, log: EventLog) -> None:
        self._config = config
        self._client = client
        self._log = log

    def pages(self, params: dict[str, str]) -> Iterator[Page]:
        """Fetch page after page until the style's end, or ``max_pages``.

        Raises:
            StepError: a request failed (exit 1 after retries, exit 2 for a 4xx).
            StepUsageError: the records or the next page are not where the config says,
                or the paging runs in a cycle: a next URL or cursor token already used, or a
                page with the same records as an earlier one (exit 2: a retry gets the same
                pages).
        """
        pagination = self._config.pagination
        base_params = {**self._config.params, **params}
        page_no = pagination.start if isinstance(pagination, PagePagination) else 0
        offset = 0
        token: str | None = None
        url = self._request_url(base_params, page_no, offset, token)
        number = 0
        seen = _Seen()
        seen.url(url, 1)
        while True:
            response = self._client.get(url)
            number += 1
            safe = self._client.safe(url)
            records = _records(response.document, self._config.records_path, safe)
            earlier = seen.records(records, number)
            if earlier is not None:
                raise StepUsageError(
                    f"pagination cycle at {safe}: page {number} has the same {len(records)} "
                    f"records as page {earlier}{_ignored_param(pagination)}; check pagination"
                )
            yield Page(number, response, records)
            if pagination is None:
                return
            if pagination.max_pages is not None and number >= pagination.max_pages:
                self._log.event("max_pages_reached", max_pages=pagination.max_pages)
                return
            if isinstance(pagination, PagePagination | OffsetPagination):
                if not records:
                    return
                page_no += 1
                offset += len(records)
                url = self._request_url(base_params, page_no, offset, token)
                continue
            if isinstance(pagination, CursorPagination):
                value = dig(response.document, pagination.cursor_path)
                if value is _MISSING or value is None or value == "":
                    return
                token = str(value)
                earlier = seen.token(token, number + 1)
                if earlier is not None:
                    raise StepUsageError(
                        f"pagination cycle at {safe}: the next token {token!r} (at "
                        f"{pagination.cursor_path!r}) of page {number} was already sent for "
                        f"page {earlier}; check pagination.cursor_path"
                    )
                url = self._request_url(base_params, page_no, offset, token)
                continue
            following = (
                _next_link(pagination, response, safe)
                if isinstance(pagination, NextLinkPagination)
                else next_link_header(response)
            )
            if following is None:
                return
            earlier = seen.url(following, number + 1)
            if earlier is not None:
                raise StepUsageError(
                    f"pagination cycle at {safe}: the next page of page {number} is "
                    f"{self._client.safe(following)}, already fetched as page {earlier}; "
                    "check the API's next links"
                )
            url = following

    def _request_url(
        self, params: dict[str, str], page_no: int, offset: int, token: str | None
    ) -> str:
        pagination = self._config.pagination
        query = dict(params)
        if isinstance(pagination, PagePagination):
            query[pagination.page_param] = str(page_no)
            if pagination.page_size is not None:
                query[pagination.size_param] = str(pagination.page_size)
        elif isinstance(pagination, OffsetPagination):
            query[pagination.offset_param] = str(offset)
            query[pagination.limit_param] = str(pagination.limit)
        elif isinstance(pagination, CursorPagination) and token is not None:
            query[pagination.cursor_param] = token
        return with_query(self._config.url, query)
