from __future__ import annotations

from quart import Blueprint

from cloudstore.web.envelope import ok

bp = Blueprint("health", __name__)


@bp.get("/health")
async def health():
    """Liveness: the process answers. It calls no backend."""
    return ok(status="healthy", service="cloudstore")
