"""CSRF defence for requests that ride the session cookie.

The token is bound to the session, so a cookie and field an attacker chooses (or plants)
never match:
- signed in: HMAC(secret, "session:" + the session id in the session cookie's token);
- not signed in: HMAC(secret, "anonymous:" + a random pre-session value kept in the HttpOnly
  `cs_csrf` cookie). A planted `cs_csrf` only yields a token the attacker cannot compute.
Logging in gives a new session (so a new token) and a new pre-session value; logging out
ends the session and also replaces the pre-session value.

Pages echo the token in the `X-CSRF-Token` header (htmx) or a `csrf_token` form field. API
calls that authenticate with the session cookie instead of a Bearer token may instead prove
they come from our own pages with a same-origin `Origin` header. Bearer calls are exempt: a
browser never adds that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from quart import Response, current_app, g, request

from cloudstore.domain.client_text import split_url
from cloudstore.domain.errors import ErrorCode, Forbidden, Unauthorized
from cloudstore.web.cookies import CSRF_COOKIE, SESSION_COOKIE, cookie_name, read_cookie

__all__ = ["CSRF_COOKIE"]
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CSRF_MAX_AGE = 60 * 60 * 24 * 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXPIRED = "This form has expired. Please reload the page and try again."


# --- the token bound to the session --------------------------------------------------------


def _tokens():
    return current_app.extensions["cloudstore"].tokens


def _sign(purpose: str, value: str) -> str:
    digest = hmac.new(_tokens().secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return digest.hexdigest()


def session_id_of_cookie() -> str | None:
    """The session id in the session cookie's token, if its signature and expiry hold
    (whether the session is still alive does not matter here: the token stays the same
    for the page that shows it and the request that sends it back)."""
    token = read_cookie(SESSION_COOKIE)
    if not token:
        return None
    try:
        return _tokens().verify(token).session_id
    except Unauthorized:
        return None


def pre_session_value() -> str | None:
    value = read_cookie(CSRF_COOKIE) or ""
    return value if CSRF_PATTERN.match(value) else None


def new_pre_session_value() -> str:
    return secrets.token_urlsafe(32)


def expected_token(pre_session: str | None = None) -> str | None:
    """The token this request must carry: bound to its session, else to its pre-session
    value (`pre_session` overrides the cookie's, for a page that is about to set one)."""
    session_id = session_id_of_cookie()
    if session_id:
        return _sign("session", session_id)
    value = pre_session or pre_session_value()
    return _sign("anonymous", value) if value else None


def token_for_page() -> str:
    """The token a page hands out; when the visitor has neither a session nor a pre-session
    value yet, a new value is made (`g.csrf_pre_session`, set as a cookie by the page)."""
    if "csrf_token" not in g:
        token = expected_token(g.get("csrf_pre_session"))
        if token is None:
            g.csrf_pre_session = new_pre_session_value()
            token = expected_token(g.csrf_pre_session)
        g.csrf_token = token
    return g.csrf_token


def csrf_token() -> str:
    """This visitor's token, echoed by every state-changing request in a header (htmx, from
    `hx-headers` on <body>) or a form field."""
    return token_for_page()


def persist_new_token(response: Response) -> None:
    """After a request that handed out a new pre-session value: the cookie that keeps it."""
    if g.get("csrf_pre_session"):
        response.set_cookie(
            cookie_name(CSRF_COOKIE),
            g.csrf_pre_session,
            max_age=CSRF_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path="/",
        )


def token_matches(sent: str) -> bool:
    expected = expected_token()
    if not expected or not sent:
        return False
    # As bytes: compare_digest refuses non-ASCII text, and a client may send anything.
    return hmac.compare_digest(expected.encode(), sent.encode("utf-8", errors="replace"))


# --- checks -----------------------------------------------------------------------------------


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
    if not token_matches(str(sent)):
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
