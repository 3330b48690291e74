"""Plain dicts for API responses."""

from __future__ import annotations

from cloudstore.domain.pricing import Quote


def cart_data(quote: Quote, currency: str) -> dict:
    return {
        "items": [
            {**line.as_item(), "stock": line.product.stock, "available": line.short_by == 0}
            for line in quote.lines
        ],
        "item_count": quote.item_count,
        "subtotal": quote.subtotal,
        "tax": quote.tax,
        "tax_rate": quote.tax_rate,
        "total": quote.total,
        "currency": currency,
    }
