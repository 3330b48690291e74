"""Idempotency keys: what a key may look like, the fingerprint of the request it was sent
with, and the one rule for a key that was seen before.

Every checkout and every stock adjustment is written together with a *key record* (in the
same DynamoDB transaction): the client's `Idempotency-Key`, or a key the server makes up
when none was sent. The record holds the request's fingerprint and the id of what the write
made (`points_to`), so a retry finds the earlier result, a different request under the same
key is refused (422), and a write whose answer was lost can be looked up (see
`stores/idempotency.py`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput

MAX_KEY = 255
RECORD_PREFIX = "IDEMPOTENCY#"
SERVER_KEY_PREFIX = "server:"


class IdempotencyKeyReused(Conflict):
    """The key was already used for a different request."""

    status = 422
    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED


def check_key(raw: str | None) -> str | None:
    """A client's Idempotency-Key: printable, at most MAX_KEY characters; blank is none."""
    key = (raw or "").strip()
    if len(key) > MAX_KEY or (key and not key.isprintable()):
        raise InvalidInput(
            f"Idempotency-Key must be printable and at most {MAX_KEY} characters",
            code=ErrorCode.INVALID,
            field="Idempotency-Key",
        )
    return key or None


def server_key() -> str:
    """A key for a request that came without one (only the server ever sends it)."""
    return f"{SERVER_KEY_PREFIX}{uuid.uuid4().hex}"


def record_id(key: str) -> str:
    """The sort key of the item that remembers what an Idempotency-Key did.

    It lives in the user's partition of the Orders table and sorts before `ORD-`, out of the
    order listing."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{RECORD_PREFIX}{digest}"


def fingerprint(kind: str, request: Mapping[str, Any]) -> str:
    """A digest of what the client asked for (`kind` names the operation, so a key reused
    for another kind of request never matches)."""
    body = json.dumps({"kind": kind, **request}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key's record as stored: the request's fingerprint; `points_to`, the id of what the
    request made (None while only abandoned attempts were recorded, `voided`)."""

    fingerprint: str
    points_to: str | None = None
    voided: frozenset[str] = field(default_factory=frozenset)
    details: Mapping[str, Any] = field(default_factory=dict)


def replayable(record: KeyRecord | None, request_fingerprint: str) -> bool:
    """The rule for a key seen before: a different request is a 422 whatever else happened;
    the same request replays what it made (True), or — if it made nothing — runs (False)."""
    if record is None:
        return False
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
    return record.points_to is not None
