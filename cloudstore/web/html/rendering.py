"""Templates rendered by a synchronous Jinja environment.

Quart compiles templates in Jinja's async mode, where every output expression, call and
block goes through an await check. Our templates never await anything (views gather the
data first, context processors run before rendering), and in async mode rendering was the
largest cost of a catalog page (bench/profile_requests.py). Pages render through a
synchronous overlay of the app's environment instead: the same loader, globals, filters
and context processors, compiled without the await machinery.

Template modules used as globals (`ui`, `admin_ui`) are built by this environment too, so
their macros return strings wherever they are called.
"""

from __future__ import annotations

import jinja2_fragments
from jinja2 import Environment
from quart import Quart, current_app, request

EXTENSION_KEY = "cloudstore.sync_jinja"


def _this_app() -> Quart:
    """The app object itself rather than the context-local proxy (cheaper to use)."""
    # quart types `current_app` as Quart, though it is a LocalProxy that has this method
    return current_app._get_current_object()  # type: ignore[attr-defined]


def sync_environment(app: Quart) -> Environment:
    """The app's Jinja environment without async mode (one per app, made on first use)."""
    environment = app.extensions.get(EXTENSION_KEY)
    if environment is None:
        environment = app.jinja_env.overlay(enable_async=False)
        app.extensions[EXTENSION_KEY] = environment
    return environment


def template_module(app: Quart, name: str):
    """A template's macros as a module, for a Jinja global such as `ui`."""
    return sync_environment(app).get_template(name).make_module()


async def render(template: str, **context) -> str:
    """The whole template, with the app's context processors applied."""
    app = _this_app()
    await app.update_template_context(context)
    return sync_environment(app).get_template(template).render(context)


async def render_blocks(template: str, blocks: list[str], **context) -> str:
    """Only `blocks` of the template (htmx fragments), in the order given."""
    app = _this_app()
    await app.update_template_context(context)
    return jinja2_fragments.render_blocks(sync_environment(app), template, blocks, **context)


async def render_block(template: str, block: str, **context) -> str:
    return await render_blocks(template, [block], **context)


def render_alone(template: str, block: str | None, context: dict) -> str:
    """The template (or one block of it) with exactly `context`: no context processor runs.
    For HTML shared between visitors (catalog_answers.py), which must not see who asked."""
    environment = sync_environment(_this_app())
    if block is None:
        return environment.get_template(template).render(context)
    return jinja2_fragments.render_block(environment, template, block, **context)


def _is_flasks_default_processor(processor) -> bool:
    return (
        getattr(processor, "__module__", None) == "flask.templating"
        and getattr(processor, "__name__", None) == "_default_template_ctx_processor"
    )


def drop_flask_context_processors(app: Quart) -> None:
    """Remove the context processor every Quart blueprint inherits from Flask.

    It reads Flask's request context, which Quart never sets, so it always returns `{}`;
    being synchronous, Quart runs it in a thread pool on every render, once per blueprint
    level (two thread hand-offs for a catalog page). It is recognised by its module and
    name (not imported: it is private to Flask). Call after the blueprints are registered."""
    for name, processors in app.template_context_processors.items():
        if name is not None:
            processors[:] = [p for p in processors if not _is_flasks_default_processor(p)]


class MemoisedUrlFor:
    """`url_for` for templates, memoised: a page calls it a dozen times or more, and each
    werkzeug URL build costs tens of microseconds.

    Only plain relative URLs are memoised, keyed by endpoint, arguments and the request's
    script root. Relative endpoints (`.index`), options such as `_external` or `_anchor`,
    and the static endpoint (its URL carries the file's current hash, see web/static_files.py)
    go to `url_for` every time."""

    MAX_ENTRIES = 4096

    def __init__(self, url_for) -> None:
        self._url_for = url_for
        self._urls: dict[tuple, str] = {}

    def __call__(self, endpoint: str, **values) -> str:
        if endpoint == "static" or endpoint.startswith(".") or any(k[0] == "_" for k in values):
            return self._url_for(endpoint, **values)
        try:
            key = (endpoint, request.script_root, *sorted(values.items()))
            url = self._urls.get(key)
        except TypeError:  # an unhashable argument
            return self._url_for(endpoint, **values)
        if url is None:
            url = self._url_for(endpoint, **values)
            if len(self._urls) >= self.MAX_ENTRIES:
                self._urls.clear()
            self._urls[key] = url
        return url


def memoise_url_for(app: Quart) -> None:
    app.jinja_env.globals["url_for"] = MemoisedUrlFor(app.url_for)
