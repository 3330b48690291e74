"""What the admin views share: where a no-JS form goes back to, and a table row re-rendered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart.typing import ResponseTypes

from cloudstore.web.html import responses

ADMIN_ROOT = "/admin"


def back_to(data: Mapping[str, str], default: str) -> str:
    """The admin page a no-JS form came from (its `next` field), else `default`."""
    return responses.back_to(data, default, within=ADMIN_ROOT)


async def table_row(
    template: str,
    block: str,
    *,
    here: str,
    toast: dict | None = None,
    message: str | None = None,
    status: int = 200,
    **context: Any,
) -> ResponseTypes:
    """One row of an admin table (`block` of `template`) re-rendered for htmx after an action
    on it: with a toast saying what happened, or with the refusal (`message`) in the row."""
    return await responses.fragment(
        template, [block], toast=toast, status=status, here=here, message=message, **context
    )
