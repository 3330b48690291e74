"""What the checkout page showed, as its form carries it: parsed with hard bounds, and
compared with a fresh quote line by line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloudstore.domain.cart import CartLine
from cloudstore.domain.catalog import Product
from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.pricing import price_cart
from cloudstore.domain.seen import differences, encode, parse


def product(pid: str, price: int, name: str = "Thing") -> Product:
    return Product(pid, "compute", name, "", Decimal(price), "", 10, "2025-01-01T00:00:00Z")


def quote(rate: str = "0.11", price: int = 1000):
    products = {"P-1": product("P-1", price, "One")}
    return price_cart([CartLine("P-1", 2)], products, Decimal(rate))


def test_a_summary_survives_the_round_trip():
    shown = parse(encode(quote()))
    assert (shown.total, shown.tax, shown.lines[0].unit_price) == (2220, 220, 1000)
    assert differences(shown, quote(), {}) == []


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "v2|220|2220|P-1*2*1000",
        "v1|220|2220|P-1*2",
        "v1|220|2220|P-1*0*1000",
        "v1|220|2220|P-1*2*1000;P-1*1*1000",
        "v1|220|" + "9" * 5000 + "|P-1*2*1000",
        "v1|220|2220|" + ";".join(f"P-{n}*1*1" for n in range(51)),
        "v1|1e999999|2220|P-1*2*1000",
    ],
)
def test_a_damaged_or_oversized_summary_is_refused(text):
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    assert refused.value.code == ErrorCode.ORDER_NOT_AS_SEEN


def test_a_new_tax_rate_is_a_change_of_tax_and_total():
    kinds = [c.kind for c in differences(parse(encode(quote("0.11"))), quote("0.12"), {})]
    assert kinds == ["tax", "total"]


def test_a_new_price_is_a_change_of_price_tax_and_total():
    changes = differences(parse(encode(quote(price=1000))), quote(price=1200), {})
    assert [(c.kind, c.before, c.after) for c in changes][0] == ("price", 1000, 1200)
    assert [c.kind for c in changes] == ["price", "tax", "total"]


def test_a_line_gone_from_the_cart_is_named():
    shown = parse("v1|220|2220|P-1*2*1000;P-2*1*500")
    changes = differences(shown, quote(), {"P-2": "Two"})
    assert [(c.kind, c.name) for c in changes][0] == ("removed", "Two")
