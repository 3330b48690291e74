"""HTML pages and their htmx fragments."""

from __future__ import annotations

from quart import Blueprint


def blueprint() -> Blueprint:
    pages = Blueprint("pages", __name__)
    return pages
