"""`/media/<name>`: product images, whichever store keeps them (MEDIA_BACKEND). Names are
content-hashed, so each is cached for a year by browsers and proxies alike."""

from __future__ import annotations

from quart import Blueprint, Response, abort, request

from cloudstore.shop import product_images
from cloudstore.web.session import backends

bp = Blueprint("media", __name__)
IMMUTABLE = "public, max-age=31536000, immutable"


@bp.get("/media/<name>")
async def file(name: str):
    data = await product_images.read(backends(), name)
    if data is None:
        abort(404)
    response = Response(data, content_type="image/webp")
    response.headers["Cache-Control"] = IMMUTABLE
    response.set_etag(name.removesuffix(".webp"))
    return await response.make_conditional(request)
