"""Cart lines: normalising what a client sends, the one rule for how many of a product a line
may hold (`allowed_quantity`: its stock, at most MAX_QUANTITY), and the changes built on it:
adding to a line, setting a line, capping a whole cart, merging a browser cart into a saved one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_QUANTITY = 99
# A checkout is one DynamoDB transaction (at most 100 actions: one per line plus the order,
# its idempotency record and the cart delete), so a cart holds at most this many lines.
MAX_LINES = 50


@dataclass(frozen=True, slots=True)
class CartLine:
    product_id: str
    quantity: int


def normalize(lines: Iterable[CartLine]) -> list[CartLine]:
    """Merge duplicate products (keeping first-seen order) and cap each at MAX_QUANTITY."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return [CartLine(pid, min(qty, MAX_QUANTITY)) for pid, qty in totals.items() if qty > 0]


def allowed_quantity(stock: int | None) -> int:
    """The most of one product a cart line may hold: what is in stock, at most MAX_QUANTITY."""
    return max(0, min(stock or 0, MAX_QUANTITY))


def quantity_of(lines: Iterable[CartLine], product_id: str) -> int:
    return sum(line.quantity for line in lines if line.product_id == product_id)


def _with_quantity(lines: list[CartLine], product_id: str, quantity: int) -> list[CartLine]:
    """`lines` with the product's line set to `quantity` (appended if new, dropped at 0)."""
    if all(line.product_id != product_id for line in lines):
        return [*lines, CartLine(product_id, quantity)] if quantity > 0 else lines
    return [
        CartLine(line.product_id, quantity) if line.product_id == product_id else line
        for line in lines
        if line.product_id != product_id or quantity > 0
    ]


@dataclass(frozen=True, slots=True)
class LineChange:
    """A change to one line: what was asked for, what was granted, and the line's limit."""

    lines: list[CartLine]
    wanted: int  # units asked to add, or the quantity asked to set
    granted: int  # units added, or the quantity set: at most what the limit allows
    quantity: int  # the line's quantity after the change
    limit: int  # allowed_quantity(stock)

    @property
    def capped(self) -> bool:
        return self.granted < self.wanted


def add_to_line(lines: Iterable[CartLine], product_id: str, wanted: int, stock: int) -> LineChange:
    """Add `wanted` units, as many as the limit leaves room for (maybe none)."""
    lines = normalize(lines)
    have = quantity_of(lines, product_id)
    limit = allowed_quantity(stock)
    added = max(0, min(wanted, limit - have))
    if added:
        lines = _with_quantity(lines, product_id, have + added)
    return LineChange(lines, wanted, added, have + added, limit)


def set_line(lines: Iterable[CartLine], product_id: str, quantity: int, stock: int) -> LineChange:
    """Set the line to `quantity` (0 removes it), at most the limit."""
    limit = allowed_quantity(stock)
    granted = min(quantity, limit)
    return LineChange(
        _with_quantity(normalize(lines), product_id, granted), quantity, granted, granted, limit
    )


@dataclass(frozen=True, slots=True)
class CapResult:
    lines: list[CartLine]
    capped: list[str]  # product ids whose quantity was lowered to the limit
    dropped: list[str]  # product ids sold out (or unknown): no line left


def cap_lines(lines: Iterable[CartLine], stock_of: Callable[[str], int | None]) -> CapResult:
    """A whole cart (e.g. one an API client sends) with every line held to its limit."""
    kept: list[CartLine] = []
    capped: list[str] = []
    dropped: list[str] = []
    for line in normalize(lines):
        limit = allowed_quantity(stock_of(line.product_id))
        if limit == 0:
            dropped.append(line.product_id)
            continue
        if line.quantity > limit:
            capped.append(line.product_id)
        kept.append(CartLine(line.product_id, min(line.quantity, limit)))
    return CapResult(kept, capped, dropped)


@dataclass(frozen=True, slots=True)
class MergeResult:
    lines: list[CartLine]
    added: list[CartLine]  # what the browser cart contributed
    capped: list[str]  # product ids whose quantity was limited by stock or MAX_QUANTITY
    dropped: list[str]  # product ids that no longer exist or are sold out


def merge(
    saved: Iterable[CartLine],
    local: Iterable[CartLine],
    stock_of: Callable[[str], int | None],
) -> MergeResult:
    """Add a browser cart to a saved cart: same product → quantities added, capped at stock
    and MAX_QUANTITY; unknown or sold-out products from the browser are dropped."""
    merged: dict[str, int] = {line.product_id: line.quantity for line in normalize(saved)}
    added: list[CartLine] = []
    capped: list[str] = []
    dropped: list[str] = []
    for line in normalize(local):
        limit = allowed_quantity(stock_of(line.product_id))
        if not limit:
            dropped.append(line.product_id)
            continue
        wanted = merged.get(line.product_id, 0) + line.quantity
        allowed = min(wanted, limit)
        if allowed < wanted:
            capped.append(line.product_id)
        if allowed > merged.get(line.product_id, 0):
            added.append(CartLine(line.product_id, allowed - merged.get(line.product_id, 0)))
        merged[line.product_id] = max(allowed, merged.get(line.product_id, 0))
    lines = [CartLine(pid, qty) for pid, qty in merged.items()][:MAX_LINES]
    return MergeResult(lines=lines, added=added, capped=capped, dropped=dropped)
