"""The audit trail: one structured log line per admin write, from the API and the admin pages.

The record goes to the `cloudstore.audit` logger with `extra={"audit": {...}}` (who, action,
target, before, after); the JSON formatter writes the dict out as fields.
"""

from __future__ import annotations

import logging

from quart import g

audit_log = logging.getLogger("cloudstore.audit")


def audit(action: str, target: str, before: dict | None, after: dict | None) -> None:
    """One structured line per admin write: who (the signed-in admin), what, before → after."""
    audit_log.info(
        "admin write",
        extra={
            "audit": {
                "who": g.user.user_id,
                "action": action,
                "target": target,
                "before": before,
                "after": after,
            }
        },
    )
