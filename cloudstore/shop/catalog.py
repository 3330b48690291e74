"""Reading and managing the catalog: shared by the API, the pages and `cloudstore seed`."""

from __future__ import annotations

import re
import secrets

from cloudstore.backends import Backends
from cloudstore.domain.catalog import Product, utc_now_iso
from cloudstore.domain.errors import InvalidInput, NotFound
from cloudstore.money import parse_price
from cloudstore.stores.catalog import LoadCounts

PRODUCT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# http(s) anywhere, or a path under /static/; never "..", quotes or angle brackets.
SAFE_IMAGE_URL = re.compile(
    r"^(?!.*\.\.)(https?://[^\s\"'<>\x00-\x1f\x7f]+|/static/[A-Za-z0-9_./-]+)$"
)
MAX_STOCK = 10_000_000


def new_product_id() -> str:
    return f"PROD-{secrets.token_hex(6).upper()}"


def check_category(backends: Backends, category: str) -> str:
    category = category.strip().lower()
    if category not in backends.settings.categories:
        allowed = ", ".join(backends.settings.categories)
        raise InvalidInput(f"category must be one of: {allowed}")
    return category


def check_image_url(url: str) -> str:
    url = url.strip()
    if url and not SAFE_IMAGE_URL.match(url):
        raise InvalidInput("image_url must be an http(s) URL or a path under /static/")
    return url


def check_stock(stock: object) -> int:
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(f"stock must be a whole number from 0 to {MAX_STOCK}")
    return stock


def build_product(backends: Backends, fields: dict, product_id: str | None = None) -> Product:
    """A new product from untrusted fields (API body or seed file entry)."""
    name = str(fields.get("name") or "").strip()
    if not name:
        raise InvalidInput("name is required")
    if product_id is not None and not PRODUCT_ID_PATTERN.match(product_id):
        raise InvalidInput("product_id may hold letters, digits, '-' and '_' (at most 64)")
    now = utc_now_iso()
    try:
        price = parse_price(fields.get("price"))
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    return Product(
        product_id=product_id or new_product_id(),
        category=check_category(backends, str(fields.get("category") or "")),
        name=name,
        description=str(fields.get("description") or "").strip(),
        price=price,
        image_url=check_image_url(str(fields.get("image_url") or "")),
        stock=check_stock(fields.get("stock", 0)),
        created_at=str(fields.get("created_at") or now),
        updated_at=now,
    )


async def find_product(backends: Backends, product_id: str) -> Product:
    """From the snapshot; a miss is re-checked in DynamoDB (it may be brand new)."""
    product = (await backends.catalog.index()).get(product_id)
    if product is None and PRODUCT_ID_PATTERN.match(product_id):
        product = await backends.catalog.fetch(product_id)
    if product is None:
        raise NotFound("product not found")
    return product


async def create_product(backends: Backends, fields: dict) -> Product:
    return await backends.catalog.put_new(build_product(backends, fields))


async def update_product(backends: Backends, product_id: str, fields: dict) -> Product:
    current = (
        await backends.catalog.fetch(product_id) if PRODUCT_ID_PATTERN.match(product_id) else None
    )
    if current is None:
        raise NotFound("product not found")
    changes: dict = {}
    if fields.get("name") is not None:
        changes["name"] = str(fields["name"]).strip()
        if not changes["name"]:
            raise InvalidInput("name must not be empty")
    if fields.get("description") is not None:
        changes["description"] = str(fields["description"]).strip()
    if fields.get("price") is not None:
        try:
            changes["price"] = parse_price(fields["price"])
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    if fields.get("category") is not None:
        changes["category"] = check_category(backends, str(fields["category"]))
    if fields.get("image_url") is not None:
        changes["image_url"] = check_image_url(str(fields["image_url"]))
    if fields.get("stock") is not None:
        changes["stock"] = check_stock(fields["stock"])
    return await backends.catalog.update(current, changes)


async def delete_product(backends: Backends, product_id: str) -> None:
    current = (
        await backends.catalog.fetch(product_id) if PRODUCT_ID_PATTERN.match(product_id) else None
    )
    if current is None:
        raise NotFound("product not found")
    await backends.catalog.delete(current)


async def adjust_stock(backends: Backends, product_id: str, delta: int) -> Product:
    if delta == 0:
        raise InvalidInput("delta must not be zero")
    current = (
        await backends.catalog.fetch(product_id) if PRODUCT_ID_PATTERN.match(product_id) else None
    )
    if current is None:
        raise NotFound("product not found")
    return await backends.catalog.adjust_stock(current, delta)


async def load_products(
    backends: Backends, entries: list[dict], *, overwrite: bool = False
) -> LoadCounts:
    """Load products from a seed file (a product without product_id gets a new one).

    An existing product is left untouched unless `overwrite`, which replaces every field
    (stock included) but keeps its `created_at` when the entry gives none."""
    products = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidInput(f"entry {position} is not an object")
        try:
            product = build_product(backends, entry, entry.get("product_id"))
        except InvalidInput as error:
            raise InvalidInput(f"entry {position}: {error.message}") from None
        if not entry.get("created_at"):
            product = product.with_changes(created_at="")  # the store fills it in
        products.append(product)
    return await backends.catalog.upsert_many(products, overwrite=overwrite)
