"""The limits templates show, from the rules and the settings: never literals in templates.

Installed as one Jinja global, `limits`, so shared macros (which see only globals) can use it.
Two thresholds only look alike: `low_stock_badge` is the storefront's "Only N left" nudge
(LOW_STOCK_BADGE), `low_stock_threshold` the admin's reorder list (LOW_STOCK_THRESHOLD).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quart import Quart

from cloudstore.auth import MAX_EMAIL_LENGTH
from cloudstore.domain.accounts import MAX_NAME_LENGTH
from cloudstore.domain.address import FIELD_LIMITS
from cloudstore.domain.cart import MAX_QUANTITY
from cloudstore.domain.images import ACCEPT, megabytes
from cloudstore.domain.product_rules import DESCRIPTION_MAX, IMAGE_URL_MAX, NAME_MAX
from cloudstore.settings import Settings


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    low_stock_badge: int
    low_stock_threshold: int
    max_upload: str = "5 MB"  # MAX_UPLOAD_BYTES in words
    image_accept: str = ACCEPT
    max_quantity: int = MAX_QUANTITY
    product_name: int = NAME_MAX
    product_description: int = DESCRIPTION_MAX
    product_image_url: int = IMAGE_URL_MAX
    person_name: int = MAX_NAME_LENGTH
    email: int = MAX_EMAIL_LENGTH
    address: dict = field(default_factory=lambda: dict(FIELD_LIMITS))


def install_template_limits(app: Quart, settings: Settings) -> None:
    app.jinja_env.globals["limits"] = TemplateLimits(
        low_stock_badge=settings.low_stock_badge,
        low_stock_threshold=settings.low_stock_threshold,
        max_upload=megabytes(settings.max_upload_bytes),
    )
