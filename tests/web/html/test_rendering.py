"""Page rendering: a synchronous Jinja environment, a memoised url_for, and no context
processor that Quart would run in a thread."""

from __future__ import annotations

import inspect

from quart import url_for

from cloudstore.web.html.rendering import MemoisedUrlFor, sync_environment


async def test_templates_render_without_async_mode(app):
    assert app.jinja_env.is_async
    assert not sync_environment(app).is_async
    assert sync_environment(app).globals is app.jinja_env.globals


async def test_no_context_processor_runs_in_a_thread(app):
    for processors in app.template_context_processors.values():
        assert all(inspect.iscoroutinefunction(p) for p in processors)


async def test_memoised_url_for_builds_what_url_for_builds(app):
    memoised = MemoisedUrlFor(app.url_for)
    cases = [
        ("pages.catalog.index", {}),
        ("pages.catalog.index", {"category": "storage", "q": "a b&c"}),
        ("pages.catalog.product", {"product_id": "PROD-1"}),
        ("pages.catalog.product", {"product_id": "PROD-2"}),
        ("static", {"filename": "css/site.css"}),
        ("pages.catalog.index", {"_anchor": "results"}),
    ]
    async with app.test_request_context("/"):
        for endpoint, values in cases:
            for _ in range(2):  # the second call comes from the memo
                assert memoised(endpoint, **values) == url_for(endpoint, **values)


async def test_memoised_url_for_keys_on_the_script_root(app):
    memoised = MemoisedUrlFor(app.url_for)
    async with app.test_request_context("/"):
        plain = memoised("pages.cart.view")
    async with app.test_request_context("/", root_path="/shop"):
        assert memoised("pages.cart.view") == url_for("pages.cart.view") == "/shop" + plain
