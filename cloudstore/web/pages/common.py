"""What every HTML page shares: htmx detection, rendering a page or its fragment, the CSRF
token, one-shot notices across a redirect, and safe `next` URLs."""

from __future__ import annotations

import json
from urllib.parse import quote, unquote, urlencode, urlsplit

from quart import Response, g, make_response, redirect, request, url_for

from cloudstore.web.cookies import CSRF_COOKIE, NOTICE_COOKIE, cookie_name
from cloudstore.web.csrf import (  # noqa: F401 - SAFE_METHODS is re-exported for admin pages
    SAFE_METHODS,
    check_form_request,
    token_for_page,
)
from cloudstore.web.rendering import render, render_blocks
from cloudstore.web.session import (  # noqa: F401 - re-exported for the page views
    backends,
    clear_session_cookie,
    rotate_csrf,
    set_session_cookie,
)

CSRF_MAX_AGE = 60 * 60 * 24 * 30
NOTICE_KINDS = ("success", "info", "warning", "error")


# --- htmx -------------------------------------------------------------------------------


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Boosted") != "true"
    )


def hx_target() -> str:
    return request.headers.get("HX-Target", "") if is_htmx() else ""


def from_page(path: str) -> bool:
    """Whether the htmx request was sent from the page at `path`."""
    current = request.headers.get("HX-Current-URL", "")
    return bool(current) and urlsplit(current).path == path


async def page(
    template: str,
    blocks: list[str] | None = None,
    *,
    status: int = 200,
    headers: dict | None = None,
    **context,
) -> Response:
    """The whole page, or (for htmx) just `blocks` of the same template."""
    if blocks and is_htmx():
        body = await render_blocks(template, blocks, **context)
    else:
        body = await render(template, **context)
    return await html_response(body, status, headers)


async def html_response(body: str, status: int = 200, headers: dict | None = None) -> Response:
    """A page or fragment: personal (never cached), and different for htmx."""
    response = await make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def go(location: str, status: int = 303) -> Response:
    """Navigate: `HX-Redirect` for htmx (a full page load), a 303 otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = Response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, status)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: never `//host`, `/\\host` or an absolute URL."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ch in value for ch in "\r\n\t"):
        return default
    return value


def login_url(next_path: str | None = None) -> str:
    target = next_path or request.full_path.rstrip("?")
    return url_for("pages.account.login") + "?" + urlencode({"next": safe_next(target)})


# --- CSRF: a token bound to the session (web/csrf.py) ----------------------------------------


def csrf_token() -> str:
    """This visitor's token, echoed by every state-changing request in a header (htmx, from
    `hx-headers` on <body>) or a form field."""
    return token_for_page()


check_csrf = check_form_request


# --- cookies --------------------------------------------------------------------------------


def notify(response: Response, text: str, kind: str = "success") -> Response:
    """A toast shown on the next full page (after a redirect)."""
    value = quote(json.dumps({"kind": kind, "text": text[:300]}))
    response.set_cookie(
        cookie_name(NOTICE_COOKIE),
        value,
        max_age=60,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path="/",
    )
    return response


def pending_notice() -> dict | None:
    raw = request.cookies.get(cookie_name(NOTICE_COOKIE))
    if not raw:
        return None
    g.notice_shown = True
    try:
        notice = json.loads(unquote(raw))
        kind, text = str(notice["kind"]), str(notice["text"])
    except (ValueError, KeyError, TypeError):
        return None
    return {"kind": kind if kind in NOTICE_KINDS else "info", "text": text}


def finish_response(response: Response) -> Response:
    """After every page request: persist a new CSRF pre-session value, drop a shown notice."""
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
    notice = cookie_name(NOTICE_COOKIE)
    if g.get("notice_shown") and notice not in _cookies_set(response):
        response.delete_cookie(notice, path="/", secure=request.is_secure)
    return response


def _cookies_set(response: Response) -> set[str]:
    return {header.split("=", 1)[0].strip() for header in response.headers.getlist("Set-Cookie")}
