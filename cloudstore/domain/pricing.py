"""Pricing a cart: line totals, subtotal, tax (rounded half-up to whole rupiah) and total."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cloudstore.domain.cart import CartLine
from cloudstore.domain.catalog import Product
from cloudstore.money import tax_for


@dataclass(frozen=True, slots=True)
class PricedLine:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        return self.product.price

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity

    @property
    def short_by(self) -> int:
        """How many units more than the stock this line asks for (0 when it fits)."""
        return max(0, self.quantity - self.product.stock)

    def as_item(self) -> dict[str, Any]:
        """The line as an order stores it and the API shows it."""
        return {
            "product_id": self.product.product_id,
            "name": self.product.name,
            "category": self.product.category,
            "image_url": self.product.image_url,
            "price": self.unit_price,
            "quantity": self.quantity,
            "line_total": self.line_total,
        }


@dataclass(frozen=True, slots=True)
class Quote:
    lines: list[PricedLine]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    tax_rate: Decimal
    missing: list[str]  # product ids in the cart that are no longer in the catalog

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def short_lines(self) -> list[PricedLine]:
        return [line for line in self.lines if line.short_by]


def price_cart(
    lines: Iterable[CartLine], products: Mapping[str, Product], tax_rate: Decimal
) -> Quote:
    priced: list[PricedLine] = []
    missing: list[str] = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None:
            missing.append(line.product_id)
        else:
            priced.append(PricedLine(product, line.quantity))
    subtotal = sum((line.line_total for line in priced), Decimal(0))
    tax = tax_for(subtotal, tax_rate)
    return Quote(
        lines=priced,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        tax_rate=tax_rate,
        missing=missing,
    )
