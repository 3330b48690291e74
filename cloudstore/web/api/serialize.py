"""Plain dicts for API responses."""

from __future__ import annotations

from cloudstore.domain.pricing import Quote


def cart_data(quote: Quote, currency: str) -> dict:
    return {
        "items": [
            {
                "product_id": line.product.product_id,
                "name": line.product.name,
                "category": line.product.category,
                "image_url": line.product.image_url,
                "price": line.unit_price,
                "stock": line.product.stock,
                "quantity": line.quantity,
                "line_total": line.line_total,
                "available": line.short_by == 0,
            }
            for line in quote.lines
        ],
        "item_count": quote.item_count,
        "subtotal": quote.subtotal,
        "tax": quote.tax,
        "tax_rate": quote.tax_rate,
        "total": quote.total,
        "currency": currency,
    }
