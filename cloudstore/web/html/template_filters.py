"""The Jinja filters every HTML page may use: rupiah, product images, times, order statuses."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape
from quart import Quart, current_app, url_for

from cloudstore.domain.images import SIZES, ProductImage
from cloudstore.money import format_idr
from cloudstore.shop.product_images import MEDIA_PREFIX, media_path

STATUS_LABELS = {
    "pending": "Pending",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
}


def idr(amount) -> str:
    return format_idr(amount)


SIZE_BY_NAME = {size.name: size for size in SIZES}


def image(product) -> str:
    """Only our own images (/static/, /media/, or MEDIA_BASE_URL's): a page never asks
    another host for anything else."""
    url = getattr(product, "image_url", None) or (
        product.get("image_url") if isinstance(product, dict) else ""
    )
    if url and url.startswith(("/static/", MEDIA_PREFIX)) and ".." not in url:
        return url
    return url_for("static", filename="img/placeholder.svg")


def media_url(name: str) -> str:
    """A media file's URL: MEDIA_BASE_URL's (a CDN) when set, else the app's /media/."""
    base = current_app.extensions["cloudstore"].settings.media_base_url
    return f"{base}/{name}" if base else media_path(name)


def img_attrs(product, size: str, width: int | None = None, height: int | None = None) -> Markup:
    """`src`, `srcset` (1x, 2x), `width` and `height` of a product's <img> at one of the sizes
    the pages use (card, page, thumb); products without an uploaded image show `image_url`
    (the seed's artwork) or the placeholder at that size."""
    shown = SIZE_BY_NAME[size]
    uploaded = getattr(product, "image", None)
    if isinstance(uploaded, ProductImage):
        variant = uploaded.variant(size)
        src, src_2x = media_url(variant.key), media_url(variant.key_2x)
        return Markup('src="{}" srcset="{} 1x, {} 2x" width="{}" height="{}"').format(
            src, src, src_2x, width or variant.width, height or variant.height
        )
    return Markup('src="{}" width="{}" height="{}"').format(
        escape(image(product)), width or shown.width, height or shown.height
    )


def when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return moment.strftime("%d %b %Y, %H:%M UTC")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.title())


def register_filters(app: Quart) -> None:
    for function in (idr, image, img_attrs, when, status_label):
        app.add_template_filter(function, function.__name__)
