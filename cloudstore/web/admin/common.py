"""What the admin views share: where a form goes back to, and fragment answers with a toast."""

from __future__ import annotations

from collections.abc import Mapping

from quart import Response, make_response

from cloudstore.web.pages.common import safe_next
from cloudstore.web.rendering import render_block, render_blocks


def back_to(data: Mapping[str, str], default: str) -> str:
    """The admin page a no-JS form came from (its `next` field), else `default`."""
    target = safe_next(data.get("next"), default)
    return target if target.startswith("/admin") else default


async def fragment(
    template: str, blocks: list[str], *, toast: dict | None = None, status: int = 200, **context
) -> Response:
    """`blocks` of `template` for htmx, plus the toast as an out-of-band swap."""
    body = await render_blocks(template, blocks, **context) if blocks else ""
    if toast:
        body += await render_block("base.html", "toasts", toast=toast, oob=True)
    response = await make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request"
    return response
