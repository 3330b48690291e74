"""Rendered catalog fragments, kept per worker while the snapshot they show is current.

A catalog grid or a product panel is the same HTML for every visitor but for the CSRF
token in its add-to-cart forms. It is rendered once with a placeholder where the token
goes and kept, keyed by what it shows (template, block, filters, cursor, product id);
every answer fills in its visitor's token, a single `str.replace`.

The cache belongs to one catalog snapshot (`CatalogStore.index()`): any change to the
catalog, stock included, makes a new snapshot, and the first lookup against a new snapshot
empties the cache. So a cached fragment is never older than the snapshot the rest of the
page is built from. Entries are bounded (least recently used out first), because search
terms are open-ended.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from markupsafe import Markup
from quart import current_app, g

from cloudstore.web.pages.common import csrf_token

# Markup, so it reaches the HTML unescaped; product text that spells it out is escaped
# (`&lt;...`) and cannot be mistaken for it.
TOKEN_PLACEHOLDER = Markup("<csrf-token/>")
MAX_ENTRIES = 512
EXTENSION_KEY = "cloudstore.fragment_cache"


class FragmentCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._snapshot: object | None = None
        self._entries: OrderedDict[Hashable, str] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, snapshot: object, key: Hashable) -> str | None:
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._entries.clear()
            return None
        html = self._entries.get(key)
        if html is not None:
            self._entries.move_to_end(key)
        return html

    def put(self, snapshot: object, key: Hashable, html: str) -> None:
        if snapshot is not self._snapshot:
            return  # rendered from a snapshot that has since been replaced
        self._entries[key] = html
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def fragment_cache() -> FragmentCache:
    app = current_app._get_current_object()
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = app.extensions[EXTENSION_KEY] = FragmentCache()
    return cache


async def shared_fragment(
    snapshot: object, key: Hashable, render: Callable[[], Awaitable[str]]
) -> Markup:
    """The fragment for `key`, from the cache or from `render()`, with this visitor's token.

    `render` is called with the placeholder standing in for the token, so what it returns
    can be shown to anyone."""
    cache = fragment_cache()
    html = cache.get(snapshot, key)
    if html is None:
        cache.misses += 1
        html = await _render_with_placeholder(render)
        cache.put(snapshot, key, html)
    else:
        cache.hits += 1
    # Rendered (escaped) HTML; the token matches CSRF_PATTERN (URL-safe base64).
    return Markup(html.replace(TOKEN_PLACEHOLDER, csrf_token()))  # noqa: S704


async def _render_with_placeholder(render: Callable[[], Awaitable[str]]) -> str:
    token = csrf_token()  # settles this visitor's token (and whether its cookie is new)
    g.csrf_token = TOKEN_PLACEHOLDER
    try:
        return await render()
    finally:
        g.csrf_token = token
