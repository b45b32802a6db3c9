"""The UI's POST forms: a same-origin check against cross-site requests, and a bounded body.

The buttons change things (they start runs), so a page on another site must not be
able to press them in a logged-in browser. Browsers name the page that posted a
form in ``Origin`` (and ``Referer``, which the UI's ``Referrer-Policy: same-origin``
keeps for its own pages); a POST is accepted only when that origin is this server's
own. A request naming no origin at all is refused too: browsers always send one.
"""

from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request

MAX_FORM_BYTES = 16 * 1024
"""Largest form body accepted; the UI's forms are a few short fields."""

FORM_TYPE = "application/x-www-form-urlencoded"


class FormError(ValueError):
    """A form or query value the UI cannot use; the message says which and what to send."""


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request) -> bool:
    """Whether the request's ``Origin`` (or else ``Referer``) is this server's origin."""
    claimed = request.headers.get("origin")
    if claimed is None or claimed == "null":
        referer = request.headers.get("referer")
        claimed = referer if referer else None
    if not claimed:
        return False
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    return _origin_of(claimed) == own


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body of at most :data:`MAX_FORM_BYTES`.

    Raises:
        FormError: another content type, or a body over the limit.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise FormError(f"expected a form ({FORM_TYPE}), got {kind or 'no content type'}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(f"form body larger than {MAX_FORM_BYTES} bytes; send fewer values")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormError("form body is not UTF-8") from None
    return dict(pairs)
