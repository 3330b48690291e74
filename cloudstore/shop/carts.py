"""Carts: validating lines against the catalog, holding each line to its limit (the one
rule, `domain.cart.allowed_quantity`), pricing, saving and merging. The API and the pages
both change carts only through these functions."""

from __future__ import annotations

from collections.abc import Iterable

from cloudstore.backends import Backends
from cloudstore.domain.cart import (
    MAX_LINES,
    MAX_QUANTITY,
    CapResult,
    CartLine,
    LineChange,
    MergeResult,
    add_to_line,
    cap_lines,
    merge,
    normalize,
    set_line,
)
from cloudstore.domain.catalog import Product
from cloudstore.domain.errors import ErrorCode, InvalidInput, NotFound
from cloudstore.domain.pricing import Quote, price_cart
from cloudstore.shop.catalog import find_product


def _invalid(message: str, field: str = "items") -> InvalidInput:
    return InvalidInput(message, code=ErrorCode.INVALID, field=field)


def parse_lines(items: object) -> list[CartLine]:
    """Lines from untrusted input (a JSON body or the browser's localStorage)."""
    if not isinstance(items, list):
        raise _invalid("items must be a list")
    lines = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise _invalid(f"items[{position}] must be an object")
        product_id, quantity = item.get("product_id"), item.get("quantity")
        if not isinstance(product_id, str) or not product_id.strip():
            raise _invalid(f"items[{position}].product_id must be a non-empty string")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise _invalid(f"items[{position}].quantity must be an integer")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise _invalid(f"items[{position}].quantity must be between 1 and {MAX_QUANTITY}")
        lines.append(CartLine(product_id.strip(), quantity))
    return lines


async def saved_lines(backends: Backends, user_id: str) -> list[CartLine]:
    return await backends.carts.get(user_id)


async def clear(backends: Backends, user_id: str) -> None:
    await backends.carts.clear(user_id)


async def quote(backends: Backends, lines: list[CartLine]) -> Quote:
    """Price lines from the catalog snapshot (for display; checkout re-reads DynamoDB)."""
    index = await backends.catalog.index()
    return price_cart(normalize(lines), index.by_id, backends.settings.tax_rate)


async def fresh_quote(backends: Backends, lines: list[CartLine]) -> Quote:
    """Priced from DynamoDB itself (checkout shows what the transaction will see)."""
    lines = normalize(lines)
    products = await backends.catalog.fetch_many(line.product_id for line in lines)
    return price_cart(lines, products, backends.settings.tax_rate)


async def _lookup(backends: Backends, product_ids: Iterable[str]) -> dict[str, Product]:
    """The products that exist (snapshot first; a miss re-checked in DynamoDB, as the
    snapshot may be a moment behind another worker's new product)."""
    index = await backends.catalog.index()
    wanted = list(dict.fromkeys(product_ids))
    found = {pid: product for pid in wanted if (product := index.get(pid)) is not None}
    unknown = [pid for pid in wanted if pid not in found]
    if unknown:
        found.update(await backends.catalog.fetch_many(unknown))
    return found


async def _products(backends: Backends, lines: list[CartLine]) -> dict[str, Product]:
    """The lines' products, or 404 naming the unknown ones."""
    if len(lines) > MAX_LINES:
        raise InvalidInput(
            f"a cart may hold at most {MAX_LINES} different products",
            code=ErrorCode.CART_TOO_LARGE,
            field="items",
        )
    found = await _lookup(backends, (line.product_id for line in lines))
    unknown = [line.product_id for line in lines if line.product_id not in found]
    if unknown:
        raise NotFound(
            f"product not found: {', '.join(unknown)}",
            code=ErrorCode.PRODUCT_NOT_FOUND,
            missing=unknown,
        )
    return found


async def replace(backends: Backends, user_id: str, lines: list[CartLine]) -> CapResult:
    """Replace the saved cart (the API's POST /cart): every line held to its limit, sold-out
    products left out; an unknown product refuses the whole cart (404)."""
    lines = normalize(lines)
    products = await _products(backends, lines)
    result = cap_lines(lines, lambda pid: products[pid].stock)
    await backends.carts.save(user_id, result.lines)
    return result


async def save(backends: Backends, user_id: str, lines: list[CartLine]) -> list[CartLine]:
    """Replace the saved cart; returns the lines kept (see `replace`)."""
    return (await replace(backends, user_id, lines)).lines


async def _keep(backends: Backends, user_id: str | None, lines: list[CartLine]) -> list[CartLine]:
    """Lines of known products; saved when the cart is a user's (else the browser keeps it)."""
    lines = normalize(lines)
    found = await _lookup(backends, (line.product_id for line in lines))
    lines = [line for line in lines if line.product_id in found]
    if user_id is not None:
        await _products(backends, lines)  # at most MAX_LINES
        await backends.carts.save(user_id, lines)
    return lines


async def add_item(
    backends: Backends,
    user_id: str | None,
    lines: Iterable[CartLine],
    product_id: str,
    quantity: int,
) -> tuple[Product, LineChange]:
    """Add units of a product to a cart (a user's saved cart, or the browser's lines when
    `user_id` is None), as many as the product's limit leaves room for."""
    product = await find_product(backends, product_id)
    change = add_to_line(lines, product.product_id, quantity, product.stock)
    if change.granted:
        change = _replace_lines(change, await _keep(backends, user_id, change.lines))
    return product, change


async def set_quantity(
    backends: Backends,
    user_id: str | None,
    lines: Iterable[CartLine],
    product_id: str,
    quantity: int,
) -> tuple[Product | None, LineChange]:
    """Set a line's quantity (0 removes it), at most the product's limit. A product no
    longer sold can only be removed."""
    product = (await _lookup(backends, [product_id])).get(product_id)
    stock = product.stock if product else 0
    change = set_line(lines, product_id, quantity, stock)
    return product, _replace_lines(change, await _keep(backends, user_id, change.lines))


def _replace_lines(change: LineChange, lines: list[CartLine]) -> LineChange:
    return LineChange(lines, change.wanted, change.granted, change.quantity, change.limit)


async def merge_into_saved(backends: Backends, user_id: str, local: list[CartLine]) -> MergeResult:
    """Merge a browser cart into the user's saved cart and save the result."""
    saved = await backends.carts.get(user_id)
    index = await backends.catalog.index()

    def stock_of(product_id: str) -> int | None:
        product = index.get(product_id)
        return product.stock if product else None

    result = merge(saved, local, stock_of)
    if result.added or result.lines != saved:
        await backends.carts.save(user_id, result.lines)
    return result
