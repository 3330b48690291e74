"""Probes: `/health` (liveness) and `/health/ready` (readiness).

- `/health` only says the process answers; it calls no backend, so a database outage never
  makes systemd or a load balancer restart healthy workers.
- `/health/ready` pings PostgreSQL and DynamoDB concurrently, each within
  `READY_TIMEOUT_SECONDS`; 200 when both answer, else 503 naming the failing part(s). Point a
  load balancer's health check here to take an instance out of rotation while it cannot serve.
  The DynamoDB ping is a DescribeTable, which the zero-config local DynamoDB answers with
  `ServiceUnavailable` while it cannot write its data dir (a full disk): it refuses writes
  then, so readiness fails with it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from pydantic import BaseModel
from quart import Blueprint, current_app, jsonify
from quart_schema import document_response

from cloudstore.web.envelope import ok

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 1.5
CheckResult = Literal["ok", "unavailable", "timeout"]


class HealthOut(BaseModel):
    success: Literal[True]
    status: Literal["healthy"]
    service: str


class Checks(BaseModel):
    postgresql: CheckResult
    dynamodb: CheckResult


class ReadyOut(BaseModel):
    success: Literal[True]
    status: Literal["ready"]
    checks: Checks


class NotReadyOut(BaseModel):
    success: Literal[False]
    error: str
    status: Literal["not ready"]
    checks: Checks


@bp.get("/health")
@document_response(HealthOut, 200)
async def health():
    """Liveness: the process answers. It calls no backend."""
    return ok(status="healthy", service="cloudstore")


async def _check(ping) -> str:
    try:
        await asyncio.wait_for(ping(), timeout=READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timeout"
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the reason is logged
        return "unavailable"
    return "ok"


@bp.get("/health/ready")
@document_response(ReadyOut, 200)
@document_response(NotReadyOut, 503)
async def ready():
    """Readiness: PostgreSQL and DynamoDB both answer within 1.5 s each."""
    backends = current_app.extensions["cloudstore"]
    postgres, dynamodb = await asyncio.gather(
        _check(backends.postgres.ping), _check(backends.dynamo.ping)
    )
    checks = {"postgresql": postgres, "dynamodb": dynamodb}
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        log.warning("not ready: %s", ", ".join(f"{n} {checks[n]}" for n in failing))
        # Built by hand: `fail()` takes the HTTP status as its `status` argument.
        response = jsonify(
            {
                "success": False,
                "error": f"not ready: {', '.join(failing)}",
                "status": "not ready",
                "checks": checks,
            }
        )
        response.status_code = 503
        response.headers.update({"Retry-After": "5", "Cache-Control": "no-store"})
        return response
    return ok(status="ready", checks=checks, headers={"Cache-Control": "no-store"})
