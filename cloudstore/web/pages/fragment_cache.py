"""Catalog grids and product panels, rendered once per snapshot and shared by visitors.

Such a fragment is the same HTML for every visitor but for the CSRF token in its
add-to-cart forms. It is rendered with a placeholder where the token goes and kept in a
`SnapshotCache` (see snapshot_cache.py for when entries go); every answer fills in its
visitor's token, a single `str.replace`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

from markupsafe import Markup
from quart import g

from cloudstore.web.pages.common import csrf_token
from cloudstore.web.snapshot_cache import snapshot_cache

# Markup, so it reaches the HTML unescaped; product text that spells it out is escaped
# (`&lt;...`) and cannot be mistaken for it.
TOKEN_PLACEHOLDER = Markup("<csrf-token/>")


async def shared_fragment(
    snapshot: object, key: Hashable, render: Callable[[], Awaitable[str]]
) -> Markup:
    """The fragment for `key`, from the cache or from `render()`, with this visitor's token.

    `render` is called with the placeholder standing in for the token, so what it returns
    can be shown to anyone."""
    cache = snapshot_cache("html fragments")
    html = cache.get(snapshot, key)
    if html is None:
        html = await _render_with_placeholder(render)
        cache.put(snapshot, key, html)
    # Rendered (escaped) HTML; the token matches CSRF_PATTERN (URL-safe base64).
    return Markup(html.replace(TOKEN_PLACEHOLDER, csrf_token()))  # noqa: S704


async def _render_with_placeholder(render: Callable[[], Awaitable[str]]) -> str:
    token = csrf_token()  # settles this visitor's token (and whether its cookie is new)
    g.csrf_token = TOKEN_PLACEHOLDER
    try:
        return await render()
    finally:
        g.csrf_token = token
