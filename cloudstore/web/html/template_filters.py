"""The Jinja filters every HTML page may use: rupiah, product images, times, order statuses."""

from __future__ import annotations

from datetime import datetime

from quart import Quart, url_for

from cloudstore.money import format_idr

STATUS_LABELS = {
    "pending": "Pending",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
}


def idr(amount) -> str:
    return format_idr(amount)


def image(product) -> str:
    """Only our own images: a page never asks another host for anything."""
    url = getattr(product, "image_url", None) or (
        product.get("image_url") if isinstance(product, dict) else ""
    )
    if url and url.startswith("/static/") and ".." not in url:
        return url
    return url_for("static", filename="img/placeholder.svg")


def when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return moment.strftime("%d %b %Y, %H:%M UTC")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.title())


def register_filters(app: Quart) -> None:
    for function in (idr, image, when, status_label):
        app.add_template_filter(function, function.__name__)
