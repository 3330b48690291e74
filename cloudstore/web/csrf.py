"""CSRF defence for requests that ride the session cookie.

A double-submit token: a random value in an HttpOnly `cs_csrf` cookie that pages echo in the
`X-CSRF-Token` header (htmx) or a `csrf_token` form field. API calls that authenticate with the
session cookie instead of a Bearer token may instead prove they come from our own pages with a
same-origin `Origin` header. Bearer calls are exempt: a browser never adds that header by itself.
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlsplit

from quart import request

from cloudstore.domain.errors import ErrorCode, Forbidden

CSRF_COOKIE = "cs_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXPIRED = "This form has expired. Please reload the page and try again."


def token_matches(sent: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(CSRF_PATTERN.match(cookie)) and hmac.compare_digest(cookie, sent)


def same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme == request.scheme and parts.netloc == request.host


async def check_form_request() -> None:
    """Pages: every state-changing request carries the token (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        sent = (await request.form).get(CSRF_FIELD, "")
    if not token_matches(sent):
        raise Forbidden(EXPIRED, code=ErrorCode.CSRF_FAILED)


def check_cookie_api_request() -> None:
    """API calls authenticated by the cookie: the token, or a same-origin Origin."""
    if request.method in SAFE_METHODS:
        return
    if token_matches(request.headers.get(CSRF_HEADER, "")) or same_origin():
        return
    raise Forbidden(
        "cross-site request refused: send the X-CSRF-Token header", code=ErrorCode.CSRF_FAILED
    )
