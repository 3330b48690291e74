"""What the checkout page showed the shopper, carried by its form, and how it differs from
the order the server would place now.

The page writes its summary (each line's product, quantity and unit price, the tax and the
total) into a hidden field; placing the order compares it with a fresh quote, so the order is
exactly what the page showed, or none is placed and the page lists what changed. The field
is the shopper's own and cannot make an order cheaper: it is only compared, never charged.
It is untrusted input all the same, so it is parsed with hard bounds before any conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from cloudstore.domain.cart import MAX_LINES, MAX_QUANTITY
from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.pricing import Quote

VERSION = "v1"
_ID = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
_LINE = re.compile(rf"({_ID})\*(\d{{1,3}})\*(\d{{1,13}})")
_AMOUNT = re.compile(r"\d{1,16}")
MAX_CHARS = 32 + MAX_LINES * 90


@dataclass(frozen=True, slots=True)
class SeenLine:
    product_id: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class SeenQuote:
    lines: tuple[SeenLine, ...]
    tax: Decimal
    total: Decimal

    def request(self) -> dict[str, object]:
        """As part of an idempotency fingerprint."""
        return {
            "lines": sorted(
                (line.product_id, line.quantity, str(line.unit_price)) for line in self.lines
            ),
            "tax": str(self.tax),
            "total": str(self.total),
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between what was shown and what would be ordered now. `kind`:
    price, quantity, added, removed, tax or total; `before`/`after` are prices, quantities
    or amounts (None for a line that was not there)."""

    kind: str
    product_id: str | None
    name: str | None
    before: Decimal | int | None
    after: Decimal | int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "product_id": self.product_id,
            "name": self.name,
            "before": self.before,
            "after": self.after,
        }


def encode(quote: Quote) -> str:
    """The hidden field's value for a page showing `quote`."""
    lines = ";".join(
        f"{line.product.product_id}*{line.quantity}*{int(line.unit_price)}" for line in quote.lines
    )
    return f"{VERSION}|{int(quote.tax)}|{int(quote.total)}|{lines}"


def _invalid() -> InvalidInput:
    return InvalidInput(
        "the order summary you saw is missing or damaged; please review it",
        code=ErrorCode.ORDER_NOT_AS_SEEN,
        field="seen",
    )


def parse(text: str | None) -> SeenQuote:
    """The form's value back as a SeenQuote; anything malformed is a 400 (`ORDER_NOT_AS_SEEN`),
    refused by length and pattern before any number is converted."""
    if not text or len(text) > MAX_CHARS:
        raise _invalid()
    parts = text.split("|")
    if len(parts) != 4 or parts[0] != VERSION:
        raise _invalid()
    _, tax, total, body = parts
    if not _AMOUNT.fullmatch(tax) or not _AMOUNT.fullmatch(total):
        raise _invalid()
    raw_lines = body.split(";") if body else []
    if len(raw_lines) > MAX_LINES:
        raise _invalid()
    lines = []
    for raw in raw_lines:
        match = _LINE.fullmatch(raw)
        if not match or not 1 <= int(match[2]) <= MAX_QUANTITY:
            raise _invalid()
        lines.append(SeenLine(match[1], int(match[2]), Decimal(match[3])))
    if len({line.product_id for line in lines}) != len(lines):
        raise _invalid()
    return SeenQuote(tuple(lines), Decimal(tax), Decimal(total))


def differences(seen: SeenQuote, quote: Quote, names: dict[str, str]) -> list[Change]:
    """What changed between the page and `quote`, line by line, then tax and total.
    `names` gives product names for lines that are no longer in the quote."""
    now = {line.product.product_id: line for line in quote.lines}
    shown = {line.product_id: line for line in seen.lines}
    changes: list[Change] = []
    for pid, before in shown.items():
        line = now.get(pid)
        if line is None:
            changes.append(Change("removed", pid, names.get(pid), before.quantity, None))
            continue
        if line.unit_price != before.unit_price:
            changes.append(
                Change("price", pid, line.product.name, before.unit_price, line.unit_price)
            )
        if line.quantity != before.quantity:
            changes.append(
                Change("quantity", pid, line.product.name, before.quantity, line.quantity)
            )
    for pid, line in now.items():
        if pid not in shown:
            changes.append(Change("added", pid, line.product.name, None, line.quantity))
    if quote.tax != seen.tax:
        changes.append(Change("tax", None, None, seen.tax, quote.tax))
    if quote.total != seen.total:
        changes.append(Change("total", None, None, seen.total, quote.total))
    return changes
