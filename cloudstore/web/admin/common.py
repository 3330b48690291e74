"""What the admin views share: where a no-JS form goes back to."""

from __future__ import annotations

from collections.abc import Mapping

from cloudstore.web.html import responses

ADMIN_ROOT = "/admin"


def back_to(data: Mapping[str, str], default: str) -> str:
    """The admin page a no-JS form came from (its `next` field), else `default`."""
    return responses.back_to(data, default, within=ADMIN_ROOT)
