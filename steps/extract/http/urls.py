"""URL helpers: add query parameters, and show a URL without its secrets.

Every URL that reaches a log line or an error message goes through :func:`safe_url`:
user info is dropped, query values under credential-like names are masked, and any
known secret value left anywhere in the text is masked too.
"""

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_NAME = re.compile(
    r"(token|key|secret|password|passwd|signature|sig|auth|credential|session)", re.IGNORECASE
)


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` set in its query string (replacing same-named ones)."""
    if not params:
        return url
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query = urlencode([*kept, *params.items()])
    return urlunsplit(parts._replace(query=query))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int]:
    """The origin of ``url`` (scheme, host, port), as browsers compare them."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def safe_url(url: str, secrets: Iterable[str] = ()) -> str:
    """``url`` fit for logs and errors: no user info, credential-like query values masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(_SECRET_NAME.search(k) for k, _ in pairs):
        query = "&".join(
            f"{k}={MASK}" if _SECRET_NAME.search(k) else urlencode({k: v}) for k, v in pairs
        )
    else:
        query = parts.query
    return mask_secrets(urlunsplit(parts._replace(netloc=netloc, query=query)), secrets)
