"""Cart lines: normalising what a client sends and merging a browser cart into a saved one."""

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
        stock = stock_of(line.product_id)
        if not stock:
            dropped.append(line.product_id)
            continue
        wanted = merged.get(line.product_id, 0) + line.quantity
        allowed = min(wanted, stock, MAX_QUANTITY)
        if allowed < wanted:
            capped.append(line.product_id)
        if allowed > merged.get(line.product_id, 0):
            added.append(CartLine(line.product_id, allowed - merged.get(line.product_id, 0)))
        merged[line.product_id] = max(allowed, merged.get(line.product_id, 0))
    lines = [CartLine(pid, qty) for pid, qty in merged.items()][:MAX_LINES]
    return MergeResult(lines=lines, added=added, capped=capped, dropped=dropped)
