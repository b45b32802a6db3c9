"""Typed config of ``extract-http``: where the API is, how it pages, how it authenticates.

The pipeline API validates this model at ``ferry render`` time and the step parses
the very same JSON from ``--config``, so a mistake fails before anything runs.
Credentials are never part of the config: auth models name environment variables
(rendered as ``secretKeyRef`` from a Kubernetes Secret).
"""

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steps.runtime.column_types import validate_declared_columns
from steps.runtime.config import Cursor, SecretEnv, StepConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Paging(_Strict):
    max_pages: int | None = Field(
        default=None, ge=1, description="Stop after this many pages; None means follow to the end."
    )


class PagePagination(_Paging):
    """Numbered pages (``?page=1&per_page=100``); stops at the first empty page."""

    type: Literal["page"] = Field(description="Pagination style: numbered pages.")
    page_param: str = Field(default="page", description="Query parameter carrying the page number.")
    size_param: str = Field(
        default="per_page", description="Query parameter carrying the page size."
    )
    page_size: int | None = Field(
        default=None, ge=1, description="Records per page to ask for; None sends no size parameter."
    )
    start: int = Field(default=1, ge=0, description="Number of the first page.")


class OffsetPagination(_Paging):
    """Offset and limit (``?offset=200&limit=100``); stops at the first empty page.

    The offset advances by the number of records received, so a server that caps the
    limit below the one asked for still yields every record once.
    """

    type: Literal["offset"] = Field(description="Pagination style: offset and limit.")
    offset_param: str = Field(default="offset", description="Query parameter carrying the offset.")
    limit_param: str = Field(default="limit", description="Query parameter carrying the limit.")
    limit: int = Field(default=100, ge=1, description="Records per page to ask for.")


class CursorPagination(_Paging):
    """An opaque next-page token in the response, sent back as a query parameter."""

    type: Literal["cursor"] = Field(description="Pagination style: opaque cursor token.")
    cursor_param: str = Field(
        default="cursor", description="Query parameter the next-page token is sent in."
    )
    cursor_path: str = Field(
        description="Dotted path in the response JSON to the next-page token, e.g. meta.next; "
        "a null, empty or missing token ends the paging."
    )


class NextLinkPagination(_Paging):
    """The URL of the next page in the response body (absolute or relative)."""

    type: Literal["next_link"] = Field(description="Pagination style: next URL in the body.")
    next_path: str = Field(
        default="next",
        description="Dotted path in the response JSON to the next page's URL; "
        "a null, empty or missing URL ends the paging.",
    )


class LinkHeaderPagination(_Paging):
    """The next page in an RFC 8288 ``Link: <url>; rel="next"`` response header."""

    type: Literal["link_header"] = Field(description="Pagination style: Link header, rel=next.")


Pagination = Annotated[
    PagePagination
    | OffsetPagination
    | CursorPagination
    | NextLinkPagination
    | LinkHeaderPagination,
    Field(discriminator="type"),
]


class BearerAuth(_Strict):
    """``Authorization: Bearer <token>`` with the token from an environment variable."""

    type: Literal["bearer"] = Field(description="Auth style: bearer token.")
    token_env: str = Field(description="Environment variable holding the token.")
    secret_name: str = Field(description="Kubernetes Secret the token comes from.")
    secret_key: str = Field(default="token", description="Key of the token inside the Secret.")

    def secret_envs(self) -> list[SecretEnv]:
        """The token variable, as a Secret reference."""
        return [
            SecretEnv(env=self.token_env, secret_name=self.secret_name, secret_key=self.secret_key)
        ]


class BasicAuth(_Strict):
    """HTTP basic auth with user name and password from environment variables."""

    type: Literal["basic"] = Field(description="Auth style: HTTP basic.")
    username_env: str = Field(description="Environment variable holding the user name.")
    password_env: str = Field(description="Environment variable holding the password.")
    secret_name: str = Field(description="Kubernetes Secret both values come from.")
    username_key: str = Field(default="username", description="Key of the user name in the Secret.")
    password_key: str = Field(default="password", description="Key of the password in the Secret.")

    def secret_envs(self) -> list[SecretEnv]:
        """The user name and password variables, as Secret references."""
        return [
            SecretEnv(
                env=self.username_env, secret_name=self.secret_name, secret_key=self.username_key
            ),
            SecretEnv(
                env=self.password_env, secret_name=self.secret_name, secret_key=self.password_key
            ),
        ]


class ApiKeyAuth(_Strict):
    """An API key in a request header (e.g. ``X-API-Key``) from an environment variable."""

    type: Literal["api_key"] = Field(description="Auth style: API key header.")
    header: str = Field(default="X-API-Key", description="Request header carrying the key.")
    value_env: str = Field(description="Environment variable holding the key.")
    secret_name: str = Field(description="Kubernetes Secret the key comes from.")
    secret_key: str = Field(default="api-key", description="Key of the API key inside the Secret.")

    def secret_envs(self) -> list[SecretEnv]:
        """The key variable, as a Secret reference."""
        return [
            SecretEnv(env=self.value_env, secret_name=self.secret_name, secret_key=self.secret_key)
        ]


Auth = Annotated[BearerAuth | BasicAuth | ApiKeyAuth, Field(discriminator="type")]


class HttpExtract(StepConfig):
    """Config of ``extract-http``: records of a paged JSON API into one artifact."""

    KIND: ClassVar[str] = "extract-http"
    ROLE: ClassVar[str] = "source"

    url: str = Field(description="API endpoint, http:// or https://, without credentials.")
    method: Literal["GET", "POST"] = Field(default="GET", description="HTTP method.")
    params: dict[str, str] = Field(
        default_factory=dict, description="Query parameters sent with the first request."
    )
    json_body: dict[str, object] | None = Field(
        default=None, description="JSON body of every POST request; only with method POST."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra request headers; never credentials (use auth for those).",
    )
    records_path: str | None = Field(
        default=None,
        description="Dotted path to the list of records in the response JSON, e.g. data.items; "
        "None means the response itself is the list.",
    )
    pagination: Pagination | None = Field(
        default=None, description="How to reach the next page; None means a single request."
    )
    auth: Auth | None = Field(
        default=None, description="Credentials, read from environment variables at run time."
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description="Declared output columns and types (string, int32, int64, float32, "
        "float64, bool, date, timestamp, timestamp[tz=UTC], decimal(p,s)); only these fields "
        "are kept. None infers them from the first page and enforces them on the rest.",
    )
    cursor: Cursor | None = Field(
        default=None,
        description="Incremental cursor: a record field that only grows; records from the "
        "stored high-water mark minus lag (inclusive) are kept, minus those an earlier run "
        "delivered; or an explicit, stateless window.",
    )
    cursor_param: str | None = Field(
        default=None,
        description="Query parameter the inclusive lower bound of the cursor (mark minus lag, "
        "or window_start) is sent in (e.g. updated_since), so the API filters too; records "
        "are always filtered client-side.",
    )
    cursor_end_param: str | None = Field(
        default=None,
        description="Query parameter the cursor's exclusive upper bound (end_value, or "
        "window_end) is sent in, when one is set.",
    )
    timeout_s: float = Field(
        default=30,
        gt=0,
        description="Socket timeout of each request: connect, and each read of the answer.",
    )
    request_deadline_s: float = Field(
        default=300,
        gt=0,
        description="Wall-time bound of one request attempt, from connect to the last byte of "
        "the body (a server dribbling bytes never trips timeout_s); past it the attempt fails "
        "and is retried like a timeout.",
    )
    max_response_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1,
        description="Largest response body, in bytes, enforced while reading and again after "
        "gzip/deflate decoding; a larger body fails the step (exit 2).",
    )
    max_redirects: int = Field(
        default=5,
        ge=0,
        description="Redirects followed for one request; more fail the step (exit 2). "
        "Credentials are only ever sent to the origin of url.",
    )
    max_requests: int = Field(
        default=100_000,
        ge=1,
        description="Bound on all HTTP requests of one run (pages, retries, redirects); "
        "reaching it fails the step (exit 2).",
    )
    retry_after_max_s: float = Field(
        default=300,
        ge=0,
        description="Longest Retry-After the step waits for; a longer one fails the step at "
        "once (exit 1, so the workflow's retry comes back later).",
    )
    max_retries: int = Field(
        default=5,
        ge=0,
        description="Retries of a request on 429, 5xx, timeouts, connection errors.",
    )
    backoff_initial_s: float = Field(
        default=1.0, ge=0, description="First retry waits up to this (exponential, full jitter)."
    )
    backoff_max_s: float = Field(default=60, ge=0, description="Upper bound of one backoff wait.")
    batch_size: int = Field(
        default=10_000, ge=1, description="Records per Arrow batch written to Parquet."
    )
    rate_limit_per_s: float | None = Field(
        default=None, gt=0, description="At most this many requests per second; None is unlimited."
    )

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, url: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"url must be http:// or https:// with a host, got {url.split('?')[0]!r}"
            )
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials (user:password@); use auth instead")
        return url

    @field_validator("columns")
    @classmethod
    def _known_types(cls, columns: dict[str, str] | None) -> dict[str, str] | None:
        return validate_declared_columns(columns)

    @field_validator("headers")
    @classmethod
    def _no_credential_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if name.lower() in ("authorization", "proxy-authorization", "cookie"):
                raise ValueError(f"header {name!r} carries credentials; configure auth instead")
        return headers

    @model_validator(mode="after")
    def _consistent(self) -> "HttpExtract":
        if self.json_body is not None and self.method != "POST":
            raise ValueError("json_body needs method POST")
        if (self.cursor_param or self.cursor_end_param) and self.cursor is None:
            raise ValueError("cursor_param/cursor_end_param need a cursor")
        if self.cursor is not None:
            self.cursor.check_columns(self.declared_columns())
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be >= backoff_initial_s")
        return self

    def declared_columns(self) -> list[str] | None:
        """The declared column names, or None when they are inferred from the first page."""
        return list(self.columns) if self.columns is not None else None

    def secret_envs(self) -> list[SecretEnv]:
        """The auth variables, each backed by a Kubernetes Secret."""
        return self.auth.secret_envs() if self.auth else []

    def incremental_cursor(self) -> Cursor | None:
        """The incremental cursor, if this source has one."""
        return self.cursor
