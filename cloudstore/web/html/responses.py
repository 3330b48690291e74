"""The answers HTML views give: a page or (for htmx) some of its blocks, a fragment with a
toast, navigation (`go`), one-shot notices across a redirect, safe `next` URLs, and the
session cookie."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlencode

from quart import Response, g, make_response, redirect, request, url_for
from quart.typing import ResponseTypes

from cloudstore.domain.client_text import bounded_json, split_url
from cloudstore.web.cookies import NOTICE_COOKIE, cookie_name
from cloudstore.web.html.rendering import render, render_block, render_blocks
from cloudstore.web.session import (  # noqa: F401 - re-exported for the page views
    backends,
    clear_session_cookie,
    set_session_cookie,
)

NOTICE_KINDS = ("success", "info", "warning", "error")
NOTICE_TEXT_CHARS = 300
# A browser keeps cookies of up to 4096 bytes; anything longer was not written by `notify`.
MAX_NOTICE_CHARS = 4096
MAX_NEXT_CHARS = 2000


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
    return bool(current) and split_url(current).path == path


def current_page(prefix: str, fallback: str) -> str:
    """The page (path and query) this request came from: for htmx the browser's page if it is
    under `prefix`, else `fallback`; otherwise the request's own URL."""
    if is_htmx():
        parts = split_url(request.headers.get("HX-Current-URL"))
        if parts.path.startswith(prefix):
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return fallback
    return request.full_path.rstrip("?")


# --- pages and fragments ----------------------------------------------------------------


async def page(
    template: str,
    blocks: list[str] | None = None,
    *,
    status: int = 200,
    headers: dict | None = None,
    **context,
) -> ResponseTypes:
    """The whole page, or (for htmx) just `blocks` of the same template."""
    if blocks and is_htmx():
        body = await render_blocks(template, blocks, **context)
    else:
        body = await render(template, **context)
    return await html_response(body, status, headers)


async def fragment(
    template: str, blocks: list[str], *, toast: dict | None = None, status: int = 200, **context
) -> ResponseTypes:
    """`blocks` of `template` for htmx, plus the toast as an out-of-band swap."""
    body = await render_blocks(template, blocks, **context) if blocks else ""
    if toast:
        body += await render_block("base.html", "toasts", toast=toast, oob=True)
    return await html_response(body, status)


async def html_response(
    body: str, status: int = 200, headers: dict[str, str] | None = None
) -> ResponseTypes:
    """A page or fragment: personal (never cached), and different for htmx."""
    response = await make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- navigation -------------------------------------------------------------------------


def go(location: str, status: int = 303) -> ResponseTypes:
    """Navigate: `HX-Redirect` for htmx (a full page load), a 303 otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = Response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, status)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: never `//host`, `/\\host` or an absolute URL, and never a
    control character (it would end up in a `Location` header, which HTTP refuses)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if len(value) > MAX_NEXT_CHARS or not value.isprintable():
        return default
    parts = split_url(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def back_to(data: Mapping[str, str], default: str, within: str) -> str:
    """The page a no-JS form came from (its `next` field) if it is under `within`, else
    `default`."""
    target = safe_next(data.get("next"), default)
    return target if target.startswith(within) else default


def login_url(next_path: str | None = None) -> str:
    target = next_path or request.full_path.rstrip("?")
    return url_for("pages.account.login") + "?" + urlencode({"next": safe_next(target)})


# --- notices: a toast on the next full page ---------------------------------------------


def notify(response: ResponseTypes, text: str, kind: str = "success") -> ResponseTypes:
    """A toast shown on the next full page (after a redirect)."""
    value = quote(json.dumps({"kind": kind, "text": text[:NOTICE_TEXT_CHARS]}))
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
    g.notice_shown = True  # a malformed one is forgotten too
    if len(raw) > MAX_NOTICE_CHARS:
        return None
    try:
        notice = bounded_json(unquote(raw), max_chars=MAX_NOTICE_CHARS, name="notice")
        kind, text = str(notice["kind"]), str(notice["text"])[:NOTICE_TEXT_CHARS]
    except (ValueError, KeyError, TypeError):
        return None
    return {"kind": kind if kind in NOTICE_KINDS else "info", "text": text}


def forget_shown_notice(response: ResponseTypes) -> None:
    """After a request whose page showed the notice (unless it set a new one)."""
    notice = cookie_name(NOTICE_COOKIE)
    if g.get("notice_shown") and notice not in _cookies_set(response):
        response.delete_cookie(notice, path="/", secure=request.is_secure)


def _cookies_set(response: ResponseTypes) -> set[str]:
    return {header.split("=", 1)[0].strip() for header in response.headers.getlist("Set-Cookie")}
