"""Reading and managing the catalog: shared by the API, the pages and `cloudstore seed`.

Every write here is audited (`shop.audit`) with the acting user (`by`) and the real values
before and after; the field rules are `domain.product_rules`."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudstore.backends import Backends
from cloudstore.domain.catalog import CatalogIndex, Product, utc_now_iso
from cloudstore.domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.images import ProductImage
from cloudstore.domain.product_rules import (
    MAX_STOCK,
    PRODUCT_ID_PATTERN,
    SAFE_IMAGE_URL,
    check_fields,
    check_product_id,
    check_stock_delta,
)
from cloudstore.shop import audit, product_images, stock
from cloudstore.stores.catalog import LoadCounts

__all__ = ["MAX_STOCK", "PRODUCT_ID_PATTERN", "SAFE_IMAGE_URL"]
REQUIRED_ON_CREATE = ("name", "category", "price")


def new_product_id() -> str:
    return f"PROD-{secrets.token_hex(6).upper()}"


def _not_found() -> NotFound:
    return NotFound("product not found", code=ErrorCode.PRODUCT_NOT_FOUND)


def build_product(
    backends: Backends, fields: Mapping[str, object], product_id: str | None = None
) -> Product:
    """A new product from untrusted fields (API body, admin form or seed file entry)."""
    if product_id is not None:
        check_product_id(product_id)
    values = check_fields(fields, backends.settings.categories)
    for name in REQUIRED_ON_CREATE:
        if name not in values:
            raise InvalidInput(f"{name} is required", code=ErrorCode.REQUIRED, field=name)
    now = utc_now_iso()
    return Product(
        product_id=product_id or new_product_id(),
        category=values["category"],
        name=values["name"],
        description=values.get("description", ""),
        price=values["price"],
        image_url=values.get("image_url", ""),
        stock=values.get("stock", 0),
        created_at=str(fields.get("created_at") or now),
        updated_at=now,
    )


async def snapshot(backends: Backends) -> CatalogIndex:
    """This worker's in-memory catalog (lists, search, pages; a moment behind writes)."""
    return await backends.catalog.index()


async def find_product(backends: Backends, product_id: str) -> Product:
    """From the snapshot; a miss is re-checked in DynamoDB (it may be brand new)."""
    product = (await backends.catalog.index()).get(product_id)
    if product is None and PRODUCT_ID_PATTERN.match(product_id):
        product = await backends.catalog.fetch(product_id)
    if product is None:
        raise _not_found()
    return product


async def fetch_product(backends: Backends, product_id: str) -> Product:
    """As DynamoDB has it now (a consistent read), or 404: what an edit starts from."""
    current = (
        await backends.catalog.fetch(product_id) if PRODUCT_ID_PATTERN.match(product_id) else None
    )
    if current is None:
        raise _not_found()
    return current


async def create_product(
    backends: Backends,
    fields: Mapping[str, object],
    *,
    by: str | None = None,
    image: bytes | None = None,
) -> Product:
    """A new product; with `image` (an upload's bytes) its files are made and kept first,
    and the product's `image_url` is the page-size file."""
    product = build_product(backends, fields)
    if _foreign_media(product.image_url, ""):
        product = product.with_changes(image_url="")
    stored = None
    if image is not None:
        stored = await product_images.store(backends, product.product_id, image)
        product = product.with_changes(image=stored, image_url=product_images.page_url(stored))
    try:
        product = await backends.catalog.put_new(product)
    except DomainError:  # refused: nothing refers to the new files
        await product_images.discard(backends, stored)
        raise
    audit.record(by, "create_product", product.product_id, None, product.as_dict())
    return product


def _image_changes(
    current: Product, values: dict[str, Any], stored: ProductImage | None, remove: bool
) -> None:
    """The `image` (and `image_url`) a write sets: a new upload, or none when the image is
    removed or another image URL is chosen. A `/media/` URL other than the product's own is
    ignored: only an upload makes one, and it may be a replaced image's (a form opened before
    the replacement) whose files are gone, or another product's."""
    if _foreign_media(values.get("image_url"), current.image_url):
        values.pop("image_url")
    if stored is not None:
        values["image"] = stored
        values["image_url"] = product_images.page_url(stored)
    elif current.image is not None and (
        remove or values.get("image_url", current.image_url) != current.image_url
    ):
        values["image"] = None
        if values.get("image_url", current.image_url) == current.image_url:
            values["image_url"] = ""  # its files go: nothing may point at them


def _foreign_media(url: object, own: str) -> bool:
    return isinstance(url, str) and url.startswith(product_images.MEDIA_PREFIX) and url != own


async def _after_image_write(
    backends: Backends, before: Product, after: Product, stored: ProductImage | None
) -> None:
    """Once the product's write succeeded: the replaced image's files go."""
    if before.image is not None and after.image != before.image:
        await product_images.discard(backends, before.image, keep=after.image)
    if stored is not None and after.image != stored:  # written, then replaced meanwhile
        await product_images.discard(backends, stored, keep=after.image)


@dataclass(frozen=True, slots=True)
class ProductEdit:
    product: Product
    # The changed fields' values before the write (empty: nothing changed).
    before: dict[str, object]
    after: dict[str, object]
    replayed: bool = False  # an Idempotency-Key's earlier result, nothing written now

    @property
    def changed(self) -> bool:
        return bool(self.after)


async def edit_product(
    backends: Backends,
    product_id: str,
    fields: Mapping[str, object],
    *,
    stock_delta: int = 0,
    by: str | None = None,
    idempotency_key: str | None = None,
    image: bytes | None = None,
    remove_image: bool = False,
) -> ProductEdit:
    """Change some fields and (optionally) add `stock_delta` to the stock in ONE atomic write,
    audited with the values before and after. Fields equal to the current values are no
    change; nothing to change writes nothing. A stock change is idempotent under
    `idempotency_key` and settled when its answer is lost (`shop/stock.py`).

    `image` (an upload's bytes) replaces the product's image, `remove_image` removes it (as
    does choosing another `image_url`); the old image's files are deleted after the write."""
    values = check_fields(fields, backends.settings.categories)
    if image is None and not remove_image and "image_url" not in values:
        return await _edit(backends, product_id, values, stock_delta, by, idempotency_key)
    current = await fetch_product(backends, product_id)
    stored = await product_images.store(backends, product_id, image) if image else None
    _image_changes(current, values, stored, remove_image)
    try:
        edit = await _edit(backends, product_id, values, stock_delta, by, idempotency_key)
    except DomainError:  # refused: the new files are nobody's
        await product_images.discard(backends, stored)
        raise
    await _after_image_write(backends, current, edit.product, stored)
    return edit


async def _edit(
    backends: Backends,
    product_id: str,
    values: dict[str, Any],
    stock_delta: int,
    by: str | None,
    idempotency_key: str | None,
) -> ProductEdit:
    if stock_delta:
        check_stock_delta(stock_delta)
        values.pop("stock", None)  # a relative change, never an absolute value as well
        written = await stock.write(
            backends,
            fetch_product,
            product_id,
            values,
            stock_delta,
            by=by,
            idempotency_key=idempotency_key,
        )
        return _audited(by, "update_product", written)
    current = await fetch_product(backends, product_id)
    changes = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not changes:
        return ProductEdit(current, {}, {})
    updated = await backends.catalog.update(current, changes)
    before = {name: getattr(current, name) for name in changes}
    audit.record(by, "update_product", product_id, before, dict(changes))
    return ProductEdit(updated, before, dict(changes))


def _audited(by: str | None, action: str, written: stock.StockWrite) -> ProductEdit:
    """The edit a stock write made (nothing, for a replay), audited when it wrote."""
    if written.replayed:
        return ProductEdit(written.after, {}, {}, replayed=True)
    current, updated = written.before, written.after
    names = written.changed_fields
    before = {name: getattr(current, name) for name in names}
    after = {name: getattr(updated, name) for name in names}
    audit.record(by, action, current.product_id, before, after)
    return ProductEdit(updated, before, after)


async def update_product(
    backends: Backends, product_id: str, fields: Mapping[str, object], *, by: str | None = None
) -> Product:
    """A partial update (absolute values; a new category moves the item atomically)."""
    return (await edit_product(backends, product_id, fields, by=by)).product


async def change_stock(
    backends: Backends,
    product_id: str,
    delta: int,
    *,
    by: str | None = None,
    idempotency_key: str | None = None,
) -> ProductEdit:
    """Add `delta` (may be negative) to the stock, atomically; never below zero (409).
    Idempotent under `idempotency_key` (a replay is `replayed`, a different request 422)."""
    check_stock_delta(delta)
    written = await stock.write(
        backends, fetch_product, product_id, {}, delta, by=by, idempotency_key=idempotency_key
    )
    return _audited(by, "adjust_stock", written)


async def adjust_stock(
    backends: Backends, product_id: str, delta: int, *, by: str | None = None
) -> Product:
    """`change_stock`, returning the product."""
    return (await change_stock(backends, product_id, delta, by=by)).product


async def delete_product(backends: Backends, product_id: str, *, by: str | None = None) -> Product:
    """Delete the product, then its image's files."""
    current = await fetch_product(backends, product_id)
    await backends.catalog.delete(current)
    audit.record(by, "delete_product", product_id, current.as_dict(), None)
    await product_images.discard(backends, current.image)
    return current


async def load_products(
    backends: Backends, entries: list[dict[str, Any]], *, overwrite: bool = False
) -> LoadCounts:
    """Load products from a seed file (a product without product_id gets a new one).

    An existing product is left untouched unless `overwrite`, which replaces every field
    (stock included) but keeps its `created_at` when the entry gives none."""
    products = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidInput(f"entry {position} is not an object", code=ErrorCode.INVALID)
        try:
            product = build_product(backends, entry, entry.get("product_id"))
        except InvalidInput as error:
            raise InvalidInput(
                f"entry {position}: {error.message}", code=error.code, field=error.field
            ) from None
        if not entry.get("created_at"):
            product = product.with_changes(created_at="")  # the store fills it in
        products.append(product)
    return await backends.catalog.upsert_many(products, overwrite=overwrite)
