"""The audit trail: one structured log line per admin write, written where the write is.

The record goes to the `cloudstore.audit` logger with `extra={"audit": {...}}` (who, action,
target, before, after); the JSON formatter writes the dict out as fields. `who` is the acting
user, passed in by the channel (API or admin page); writes made by the system itself (the
seed command, maintenance scripts) say "system".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

audit_log = logging.getLogger("cloudstore.audit")
SYSTEM = "system"


def record(
    who: str | None,
    action: str,
    target: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> None:
    audit_log.info(
        "admin write",
        extra={
            "audit": {
                "who": who or SYSTEM,
                "action": action,
                "target": target,
                "before": before,
                "after": after,
            }
        },
    )
