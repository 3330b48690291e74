"""Catalog answers: computed once per catalog snapshot and shared by every visitor.

Kept: the JSON of an API product list; the HTML of a catalog grid or a product panel (the
templates under `templates/shared/`); and whole catalog and product pages for anonymous
visitors. Each is keyed by a frozen dataclass of what it was computed from (`CatalogQuery`,
`SharedHtml`), so equal questions meet one entry whatever order their parameters came in,
and kept in a `SnapshotCache`, which forgets everything when the catalog changes.

Shared HTML is rendered in a neutral context: no user, cart or notice, and `g`, `request`
and `session` withheld (reading them fails the render), so nothing about the visitor who
happened to ask first reaches the others. The one per-visitor part, the CSRF token in forms,
is rendered as a placeholder and filled in per answer with a single `str.replace`. The
placeholder is random per process, so text from the catalog cannot spell it out, and it
contains only characters that HTML escaping and `tojson` leave alone (it also stands in the
`hx-headers` JSON on <body>).
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from markupsafe import Markup
from quart import current_app, g, request

from cloudstore.domain.catalog import CatalogIndex, Page, Product
from cloudstore.web.cookies import CART_COOKIE, NOTICE_COOKIE, cookie_name
from cloudstore.web.html.csrf import csrf_token
from cloudstore.web.html.rendering import render, render_alone
from cloudstore.web.html.responses import is_htmx
from cloudstore.web.html.snapshot_cache import SnapshotCache
from cloudstore.web.session import backends, request_token

TOKEN_PLACEHOLDER = f"csrf{secrets.token_hex(16)}"
EXTENSION_KEY = "cloudstore.catalog_answers"

# The data a shared template is rendered with (a coroutine when it embeds shared HTML).
TemplateData = Callable[[], dict | Awaitable[dict]]


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """One page of catalog results, as `CatalogIndex.query` takes it."""

    category: str | None = None
    q: str | None = None
    sort: str = "newest"
    limit: int = 24
    cursor: str | None = None
    # How many pages of the listing the shopper has loaded ("Load more" counts them, so a
    # page reloaded by Back shows them all again); it only changes the HTML's links.
    pages: int = 1

    @classmethod
    def of(
        cls, filters: dict, limit: int, cursor: str | None = None, pages: int = 1
    ) -> CatalogQuery:
        """From a listing's filters (`listing.catalog_filters`), where "" means any."""
        return cls(
            filters["category"] or None, filters["q"] or None, filters["sort"], limit, cursor, pages
        )

    def run(self, index: CatalogIndex) -> Page:
        return index.query(
            category=self.category, q=self.q, sort=self.sort, limit=self.limit, cursor=self.cursor
        )


@dataclass(frozen=True, slots=True)
class SharedHtml:
    """Which HTML: a template (or one of its blocks) rendered from `inputs`, whose URLs start
    with `script_root`. A product is keyed by its values: one fetched from DynamoDB, newer
    than the snapshot, gets entries of its own."""

    template: str
    inputs: CatalogQuery | Product
    block: str | None = None
    script_root: str = ""

    @classmethod
    def here(cls, template: str, inputs: CatalogQuery | Product, block: str | None = None):
        return cls(template, inputs, block, request.script_root)


class CatalogAnswers:
    """An app's caches: JSON and HTML apart, so neither evicts the other."""

    def __init__(self) -> None:
        self.json = SnapshotCache()
        self.html = SnapshotCache()


def catalog_answers() -> CatalogAnswers:
    answers = current_app.extensions.get(EXTENSION_KEY)
    if answers is None:
        answers = current_app.extensions[EXTENSION_KEY] = CatalogAnswers()
    return answers


def catalog_json(snapshot: CatalogIndex, query: CatalogQuery, build: Callable[[Page], str]) -> str:
    """The JSON `build` makes of the query's page, built once per snapshot."""
    cache = catalog_answers().json
    body = cache.get(snapshot, query)
    if body is None:
        body = build(query.run(snapshot))
        cache.put(snapshot, query, body)
    return body


async def shared_html(snapshot: CatalogIndex, key: SharedHtml, data: TemplateData) -> Markup:
    """The HTML for `key`, from the cache or rendered neutrally, with this visitor's token."""
    cache = catalog_answers().html
    html = cache.get(snapshot, key)
    if html is None:
        html = await _render_shared(key, data)
        cache.put(snapshot, key, html)
    # Rendered (escaped) HTML; the token matches CSRF_PATTERN (URL-safe base64).
    return Markup(html.replace(TOKEN_PLACEHOLDER, csrf_token()))  # noqa: S704


def anonymous_visit() -> bool:
    """A full-page GET that no account, cart or notice makes personal."""
    cookies = request.cookies
    return (
        request.method == "GET"
        and not is_htmx()
        and request_token() is None
        and cookie_name(NOTICE_COOKIE) not in cookies
        and cookie_name(CART_COOKIE) not in cookies
    )


async def page_for_visitor(snapshot: CatalogIndex, key: SharedHtml, data: TemplateData) -> str:
    """A whole page: shared by anonymous visitors (see `anonymous_visit`), else rendered for
    this visitor with the page context."""
    if anonymous_visit():
        return await shared_html(snapshot, key, data)
    return await render(key.template, **await _resolve(data))


class SharedRenderError(RuntimeError):
    """A shared render reached for something about the visitor."""


class _Withheld:
    """Stands in for `g`, `request` and `session` in a shared render."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise SharedRenderError(f"shared HTML may not read {self._name}.{attribute}")


WITHHELD = {name: _Withheld(name) for name in ("g", "request", "session")}


def neutral_context() -> dict:
    """What every shared template sees besides its data: what any anonymous visitor of the
    same URL would see (the endpoint follows from the template, which is in the key)."""
    return {
        "user": None,
        "cart": None,
        "notice": None,
        "categories": backends().settings.categories,
        "endpoint": request.endpoint,
        **WITHHELD,
    }


async def _render_shared(key: SharedHtml, data: TemplateData) -> str:
    token = csrf_token()  # settles this visitor's token (and whether its cookie is new)
    g.csrf_token = TOKEN_PLACEHOLDER
    try:
        context = {**await _resolve(data), **neutral_context()}
        html = render_alone(key.template, key.block, context)
    finally:
        g.csrf_token = token
    if token != TOKEN_PLACEHOLDER and token in html:
        raise SharedRenderError("a visitor's CSRF token reached shared HTML")
    return html


async def _resolve(data: TemplateData) -> dict:
    value = data()
    return await value if inspect.isawaitable(value) else value
