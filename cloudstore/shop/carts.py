"""Carts: validating lines against the catalog, pricing them, saving and merging."""

from __future__ import annotations

from cloudstore.backends import Backends
from cloudstore.domain.cart import MAX_LINES, MAX_QUANTITY, CartLine, MergeResult, merge, normalize
from cloudstore.domain.errors import InvalidInput, NotFound
from cloudstore.domain.pricing import Quote, price_cart


def parse_lines(items: object) -> list[CartLine]:
    """Lines from untrusted input (a JSON body or the browser's localStorage)."""
    if not isinstance(items, list):
        raise InvalidInput("items must be a list")
    lines = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"items[{position}] must be an object")
        product_id, quantity = item.get("product_id"), item.get("quantity")
        if not isinstance(product_id, str) or not product_id.strip():
            raise InvalidInput(f"items[{position}].product_id must be a non-empty string")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput(f"items[{position}].quantity must be an integer")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"items[{position}].quantity must be between 1 and {MAX_QUANTITY}")
        lines.append(CartLine(product_id.strip(), quantity))
    return lines


async def quote(backends: Backends, lines: list[CartLine]) -> Quote:
    """Price lines from the catalog snapshot (for display; checkout re-reads DynamoDB)."""
    index = await backends.catalog.index()
    return price_cart(normalize(lines), index.by_id, backends.settings.tax_rate)


async def check_known(backends: Backends, lines: list[CartLine]) -> list[CartLine]:
    lines = normalize(lines)
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"a cart may hold at most {MAX_LINES} different products")
    index = await backends.catalog.index()
    unknown = [line.product_id for line in lines if index.get(line.product_id) is None]
    if unknown:
        # The snapshot may be a moment behind another worker's new product.
        fresh = await backends.catalog.fetch_many(unknown)
        unknown = [pid for pid in unknown if pid not in fresh]
    if unknown:
        raise NotFound(f"product not found: {', '.join(unknown)}", missing=unknown)
    return lines


async def save(backends: Backends, user_id: str, lines: list[CartLine]) -> list[CartLine]:
    lines = await check_known(backends, lines)
    await backends.carts.save(user_id, lines)
    return lines


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
