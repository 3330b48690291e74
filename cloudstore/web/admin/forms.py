"""The admin's product form: fields in, clean values and one message per field out.

The rules are the catalog's own (`shop.catalog`): this only runs them field by field so the
page can show each message beside its input. `create_product`/`update_product` check again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.field_messages import page_message
from cloudstore.domain.numbers import whole_number
from cloudstore.money import parse_price
from cloudstore.shop.catalog import MAX_STOCK, check_category, check_image_url, check_stock
from cloudstore.web.pages.forms import Form

NAME_MAX = 200
DESCRIPTION_MAX = 4000
IMAGE_URL_MAX = 500
MAX_DELTA = 100_000
GROUPED = re.compile(r"^\d{1,3}([.\s]\d{3})+$")  # 1.250.000 or 1 250 000
PRODUCT_FIELDS = ("name", "category", "price", "stock", "image_url", "description")


@dataclass
class ProductForm(Form):
    clean: dict = field(default_factory=dict)  # typed values (price, stock, stock_delta)


def _text(data: Mapping[str, str], name: str) -> str:
    return " ".join(str(data.get(name, "")).split())


def _sentence(error: Exception) -> str:
    text = str(getattr(error, "message", error))
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _price(raw: str):
    text = raw.strip().removeprefix("Rp").removeprefix("rp").strip()
    if GROUPED.match(text):
        text = re.sub(r"[.\s]", "", text)
    return parse_price(text)


def _whole(raw: str, minimum: int, maximum: int) -> int:
    try:
        return whole_number(raw, name="number", minimum=minimum, maximum=maximum)
    except InvalidInput as error:
        raise ValueError(error.message) from None


def product_form(backends, data: Mapping[str, str], *, new: bool) -> ProductForm:
    """A new product (with its starting stock) or an edit (with an optional stock change,
    applied atomically on its own, never as an absolute value)."""
    form = ProductForm(
        values={
            "name": _text(data, "name"),
            "category": _text(data, "category").lower(),
            "price": _text(data, "price"),
            "image_url": str(data.get("image_url", "")).strip(),
            "description": str(data.get("description", "")).strip().replace("\r\n", "\n"),
        }
    )
    values, errors = form.values, form.errors
    if not values["name"]:
        errors["name"] = "Enter a product name."
    elif len(values["name"]) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    try:
        values["category"] = check_category(backends, values["category"])
    except InvalidInput:
        errors["category"] = "Choose a category."
    if not values["price"]:
        errors["price"] = "Enter a price in rupiah, e.g. 650000."
    else:
        try:
            form.clean["price"] = _price(values["price"])
        except ValueError as error:
            errors["price"] = _sentence(error)
    if len(values["image_url"]) > IMAGE_URL_MAX:
        errors["image_url"] = f"Use at most {IMAGE_URL_MAX} characters."
    else:
        try:
            check_image_url(values["image_url"])
        except InvalidInput:
            errors["image_url"] = "Use an https:// address or a path under /static/."
    if len(values["description"]) > DESCRIPTION_MAX:
        errors["description"] = f"Use at most {DESCRIPTION_MAX} characters."
    if new:
        values["stock"] = _text(data, "stock") or "0"
        try:
            form.clean["stock"] = check_stock(_whole(values["stock"], 0, MAX_STOCK))
        except (ValueError, InvalidInput):
            # The API's words for the same rule (`stock must be a whole number from 0 to ...`).
            errors["stock"] = page_message("stock", f"must be a whole number from 0 to {MAX_STOCK}")
    else:
        values["stock_delta"] = _text(data, "stock_delta")
        form.clean["stock_delta"] = 0
        if values["stock_delta"]:
            try:
                form.clean["stock_delta"] = _whole(values["stock_delta"], -MAX_DELTA, MAX_DELTA)
            except ValueError:
                errors["stock_delta"] = (
                    "Enter a whole number to add (or, with a minus sign, to remove)."
                )
    return form


def product_fields(form: ProductForm) -> dict:
    """What `create_product`/`update_product` take, from a valid form."""
    fields = {
        "name": form.values["name"],
        "category": form.values["category"],
        "price": form.clean["price"],
        "image_url": form.values["image_url"],
        "description": form.values["description"],
    }
    if "stock" in form.clean:
        fields["stock"] = form.clean["stock"]
    return fields


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
