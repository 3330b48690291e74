"""The Jinja filters every HTML page (and mail) may use: rupiah, product images, times,
order statuses.

Times are stored in UTC (ISO 8601) and shown in the shop's time zone (`SHOP_TIMEZONE`,
Asia/Jakarta by default) with its abbreviation: WIB, WITA and WIT for Indonesia's three
zones, else the zone's own (`CET`), or `UTC+8` where the zone has only an offset. `when` is
the one place that turns a stored time into text; `time_left` says how long until one.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from quart import Quart, current_app, has_app_context, url_for

from cloudstore.domain.images import SIZES, ProductImage
from cloudstore.domain.shop_time import (
    DEFAULT_TIMEZONE,
    ShopClock,
    shop_clock,
    time_left,
)
from cloudstore.money import format_idr
from cloudstore.shop.product_images import MEDIA_PREFIX, media_path

STATUS_LABELS = {
    "pending": "Pending",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "expired": "Expired",
}
CLOCK_KEY = "cloudstore.shop_clock"


def idr(amount) -> str:
    return format_idr(amount)


def plain_amount(amount) -> str:
    """The amount as digits only (`1443000`): what a banking app's amount field takes."""
    return str(int(amount))


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


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.title())


def app_clock(app: Quart) -> ShopClock:
    """The clock of this app's settings (`SHOP_TIMEZONE`)."""
    clock = app.extensions.get(CLOCK_KEY)
    if clock is None:
        backends = app.extensions.get("cloudstore")
        name = backends.settings.shop_timezone if backends is not None else DEFAULT_TIMEZONE
        clock = app.extensions[CLOCK_KEY] = shop_clock(name)
    return clock


def when(iso: object) -> str:
    """A stored time as pages show it, in the running app's zone (else the default zone),
    for Python code; templates use the `when` filter, bound to the app's clock."""
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    return (app_clock(app) if app is not None else shop_clock()).when(iso)


def register_filters(app: Quart) -> None:
    clock = app_clock(app)
    for function in (idr, plain_amount, image, img_attrs, time_left, status_label):
        app.add_template_filter(function, function.__name__)
    app.add_template_filter(clock.when, "when")
    app.jinja_env.globals["shop_time_zone"] = clock.label
