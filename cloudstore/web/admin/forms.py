"""The admin's product form: fields in, clean values and one message per field out.

The rules are the catalog's own (`domain.product_rules`, the same the API and seed files
use): this only reads the form's text formats (a price typed as "Rp 1.250.000", a signed
stock change) and runs the rules field by field, so the page can show each message beside
its input, chosen by the error's code. The shop functions check again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cloudstore.domain.errors import DomainError, ErrorCode, InvalidInput
from cloudstore.domain.images import MAX_PIXELS
from cloudstore.domain.product_rules import (
    DESCRIPTION_MAX,
    IMAGE_URL_MAX,
    MAX_STOCK_DELTA,
    NAME_MAX,
    PRODUCT_FIELDS,
    check_category,
    check_description,
    check_image_url,
    check_name,
    check_price,
    check_stock,
    check_stock_delta,
)
from cloudstore.web.html.forms import Form

__all__ = [
    "MAX_DELTA",
    "PRODUCT_FIELDS",
    "ProductForm",
    "image_message",
    "product_fields",
    "product_form",
]
MAX_DELTA = MAX_STOCK_DELTA
GROUPED = re.compile(r"^\d{1,3}([.\s]\d{3})+$")  # 1.250.000 or 1 250 000
CONTROL_MESSAGE = "Remove the control characters (invisible codes) from this field."
DELTA_MESSAGE = "Enter a whole number to add (or, with a minus sign, to remove)."
MESSAGES = {
    ("name", ErrorCode.REQUIRED): "Enter a product name.",
    ("name", ErrorCode.TOO_LONG): f"Use at most {NAME_MAX} characters.",
    ("description", ErrorCode.TOO_LONG): f"Use at most {DESCRIPTION_MAX} characters.",
    ("image_url", ErrorCode.TOO_LONG): f"Use at most {IMAGE_URL_MAX} characters.",
    ("image_url", ErrorCode.INVALID): "Use an https:// address or a path under /static/.",
    ("category", ErrorCode.INVALID): "Choose a category.",
    ("delta", ErrorCode.INVALID): DELTA_MESSAGE,
}


def image_message(error: DomainError, max_upload: str) -> str:
    """The form's words for a refused image, chosen by the error's code."""
    messages = {
        ErrorCode.IMAGE_TYPE: "This file is not a PNG, JPEG or WebP image (whatever its name "
        "says). Choose an image file.",
        ErrorCode.IMAGE_TOO_LARGE: f"This image is larger than {max_upload}. "
        "Choose a smaller file.",
        ErrorCode.IMAGE_CORRUPT: "This image could not be read: it may be damaged or "
        "incomplete. Choose another file.",
        ErrorCode.IMAGE_TOO_MANY_PIXELS: "This image has too many pixels (more than "
        f"{MAX_PIXELS // 1_000_000} megapixels). Choose a smaller image.",
    }
    return messages.get(error.code) or error.sentence()


@dataclass
class ProductForm(Form):
    clean: dict = field(default_factory=dict)  # the checked values, typed (price, stock, ...)


def message_for(error: InvalidInput) -> str:
    """The page's words for a refused field, chosen by the error's code."""
    if error.code == ErrorCode.CONTROL_CHARACTERS:
        return CONTROL_MESSAGE
    return MESSAGES.get((error.field or "", error.code)) or error.sentence()


def _ungrouped_price(raw: str) -> str:
    text = raw.strip().removeprefix("Rp").removeprefix("rp").strip()
    return re.sub(r"[.\s]", "", text) if GROUPED.match(text) else text


def _whole(raw: str) -> int | None:
    text = raw.strip()
    # ASCII digits only: int() would also read other scripts' digits ("٩٩").
    return int(text) if re.fullmatch(r"[+-]?[0-9]{1,9}", text) else None


def _check(form: ProductForm, name: str, rule: Callable[[], object]) -> None:
    try:
        form.clean[name] = rule()
    except InvalidInput as error:
        form.errors[name] = message_for(error)


def product_form(backends, data: Mapping[str, str], *, new: bool) -> ProductForm:
    """A new product (with its starting stock) or an edit (with an optional stock change,
    applied atomically with the other fields, never as an absolute value)."""
    form = ProductForm(
        values={
            "name": " ".join(str(data.get("name", "")).split()),
            "category": " ".join(str(data.get("category", "")).split()).lower(),
            "price": " ".join(str(data.get("price", "")).split()),
            "image_url": str(data.get("image_url", "")).strip(),
            "description": str(data.get("description", "")).strip().replace("\r\n", "\n"),
        }
    )
    raw, values = data, form.values
    categories = backends.settings.categories
    _check(form, "name", lambda: check_name(raw.get("name", "")))
    _check(form, "category", lambda: check_category(values["category"], categories))
    if not values["price"]:
        form.errors["price"] = "Enter a price in rupiah, e.g. 650000."
    else:
        _check(form, "price", lambda: check_price(_ungrouped_price(values["price"])))
    _check(form, "image_url", lambda: check_image_url(values["image_url"]))
    _check(form, "description", lambda: check_description(raw.get("description", "")))
    if new:
        values["stock"] = " ".join(str(data.get("stock", "")).split()) or "0"
        _check(form, "stock", lambda: check_stock(_whole(values["stock"])))
    else:
        values["stock_delta"] = " ".join(str(data.get("stock_delta", "")).split())
        form.clean["stock_delta"] = 0
        if values["stock_delta"]:
            _check(form, "stock_delta", lambda: check_stock_delta(_whole(values["stock_delta"])))
            if "stock_delta" in form.errors:
                form.errors["stock_delta"] = DELTA_MESSAGE
    return form


def product_fields(form: ProductForm) -> dict:
    """What `create_product`/`edit_product` take, from a valid form."""
    names = ("name", "category", "price", "image_url", "description", "stock")
    return {name: form.clean[name] for name in names if name in form.clean}


def product_values(product) -> dict:
    """A product as form values (for the edit row)."""
    return {
        "name": product.name,
        "category": product.category,
        "price": str(int(product.price)),
        "image_url": product.image_url,
        "description": product.description,
        "stock_delta": "",
    }
