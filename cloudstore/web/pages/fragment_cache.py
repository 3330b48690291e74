"""Catalog HTML rendered once per snapshot and shared by visitors.

A catalog grid or a product panel is the same HTML for every visitor but for the CSRF
token in its add-to-cart forms; a whole catalog or product page is the same for every
anonymous visitor (no account, no notice to show) but for that token too. Such HTML is
rendered with a placeholder where the token goes and kept in a `SnapshotCache` (see
snapshot_cache.py for when entries go); every answer fills in its visitor's token, a
single `str.replace`.

The placeholder is random per process, so text from the catalog cannot spell it out, and
it contains only characters that HTML escaping and `tojson` leave alone (it also stands in
the `hx-headers` JSON on <body>).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Hashable

from markupsafe import Markup
from quart import g, request

from cloudstore.web.cookies import NOTICE_COOKIE, cookie_name
from cloudstore.web.pages.common import csrf_token, is_htmx
from cloudstore.web.session import request_token
from cloudstore.web.snapshot_cache import snapshot_cache

TOKEN_PLACEHOLDER = f"csrf{secrets.token_hex(16)}"


def anonymous_visit() -> bool:
    """A full-page GET that no account, cart or notice makes personal."""
    return (
        request.method == "GET"
        and not is_htmx()
        and request_token() is None
        and cookie_name(NOTICE_COOKIE) not in request.cookies
    )


async def shared_fragment(
    snapshot: object, key: Hashable, render: Callable[[], Awaitable[str]]
) -> Markup:
    """The HTML for `key`, from the cache or from `render()`, with this visitor's token.

    `render` runs with the placeholder standing in for the token, so what it returns can
    be shown to anyone; it may itself use shared fragments."""
    cache = snapshot_cache("html fragments")
    html = cache.get(snapshot, key)
    if html is None:
        html = await _render_with_placeholder(render)
        cache.put(snapshot, key, html)
    # Rendered (escaped) HTML; the token is hex (web/csrf.py), safe anywhere in it.
    return Markup(html.replace(TOKEN_PLACEHOLDER, csrf_token()))  # noqa: S704


async def page_for_visitor(
    snapshot: object, key: Hashable, render: Callable[[], Awaitable[str]]
) -> str:
    """A whole page: shared by anonymous visitors (see `anonymous_visit`), else rendered."""
    if anonymous_visit():
        return await shared_fragment(snapshot, key, render)
    return await render()


async def _render_with_placeholder(render: Callable[[], Awaitable[str]]) -> str:
    token = csrf_token()  # settles this visitor's token (and whether its cookie is new)
    g.csrf_token = TOKEN_PLACEHOLDER
    try:
        html = await render()
    finally:
        g.csrf_token = token
    if token != TOKEN_PLACEHOLDER and token in html:
        raise RuntimeError("a visitor's CSRF token reached shared HTML")
    return html
