"""CSRF defence for requests that ride the session cookie.

A double-submit token: a random value in an HttpOnly `cs_csrf` cookie that pages echo in the
`X-CSRF-Token` header (htmx, from `hx-headers` on <body>) or a `csrf_token` form field. API
calls that authenticate with the session cookie instead of a Bearer token may instead prove
they come from our own pages with a same-origin `Origin` header. Bearer calls are exempt: a
browser never adds that header by itself.
"""

from __future__ import annotations

import hmac
import re
import secrets

from quart import Response, g, request

from cloudstore.domain.client_text import split_url
from cloudstore.domain.errors import ErrorCode, Forbidden

CSRF_COOKIE = "cs_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CSRF_MAX_AGE = 60 * 60 * 24 * 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXPIRED = "This form has expired. Please reload the page and try again."


def csrf_token() -> str:
    """This browser's token: the cookie's, or a new one (sent with the response)."""
    if "csrf_token" not in g:
        existing = request.cookies.get(CSRF_COOKIE, "")
        if CSRF_PATTERN.match(existing):
            g.csrf_token, g.csrf_new = existing, False
        else:
            g.csrf_token, g.csrf_new = secrets.token_urlsafe(32), True
    return g.csrf_token


def persist_new_token(response: Response) -> None:
    """After a request that handed out a new token: the cookie that keeps it."""
    if g.get("csrf_new"):
        response.set_cookie(
            CSRF_COOKIE,
            g.csrf_token,
            max_age=CSRF_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )


def token_matches(sent: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    sent_bytes = sent.encode("utf-8", "replace")
    return bool(CSRF_PATTERN.match(cookie)) and hmac.compare_digest(cookie.encode(), sent_bytes)


def same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    parts = split_url(origin)
    return parts.scheme == request.scheme and parts.netloc == request.host


async def check_csrf() -> None:
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
