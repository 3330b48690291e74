"""The Idempotency-Key header of the API's non-idempotent writes (orders, stock changes)."""

from __future__ import annotations

from quart import request

from cloudstore.domain.idempotency import check_key

REPLAYED = {"Idempotent-Replayed": "true"}


def idempotency_key() -> str | None:
    """The request's key (400 if it is not printable or too long), or None."""
    return check_key(request.headers.get("Idempotency-Key"))


def replay_headers(replayed: bool) -> dict[str, str] | None:
    return dict(REPLAYED) if replayed else None
