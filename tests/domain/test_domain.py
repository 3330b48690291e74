"""Pure rules, no I/O: money, cart merging, the catalog index, orders and checkout planning."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from cloudstore.domain.cart import MAX_QUANTITY, CartLine, merge, normalize
from cloudstore.domain.catalog import CatalogIndex, Product
from cloudstore.domain.checkout import OutOfStock, TotalMismatch, plan_checkout
from cloudstore.domain.errors import InvalidInput, NotFound
from cloudstore.domain.orders import (
    CANCELLED,
    DELIVERED,
    PAID,
    PENDING,
    SHIPPED,
    STATUSES,
    can_transition,
    new_order_id,
)
from cloudstore.money import format_idr, parse_price, tax_for, to_rupiah

TAX = Decimal("0.11")
ADDRESS = {
    "name": "Budi Santoso",
    "phone": "+62 812 3456 7890",
    "address": "Jl. Sudirman No. 1",
    "city": "Jakarta",
    "postal_code": "10220",
}


def product(
    product_id: str,
    *,
    name: str | None = None,
    description: str = "",
    category: str = "compute",
    price: int = 1000,
    stock: int = 10,
    created_at: str = "2024-01-01T00:00:00.000Z",
) -> Product:
    return Product(
        product_id=product_id,
        category=category,
        name=name or f"Product {product_id}",
        description=description,
        price=Decimal(price),
        image_url="",
        stock=stock,
        created_at=created_at,
    )


# ---- money --------------------------------------------------------------------------------


def test_format_idr_groups_thousands_with_dots():
    assert format_idr(32_000_000) == "Rp 32.000.000"
    assert format_idr(Decimal(1500)) == "Rp 1.500"
    assert format_idr(0) == "Rp 0"


def test_format_idr_rounds_to_whole_rupiah_half_up():
    assert format_idr(Decimal("999.5")) == "Rp 1.000"


def test_tax_rounds_half_up_to_whole_rupiah():
    assert tax_for(Decimal(150), TAX) == Decimal(17)  # 16.5 → 17, not the banker's 16


def test_tax_rounds_a_fraction_under_half_down():
    assert tax_for(Decimal(149), TAX) == Decimal(16)  # 16.39 → 16


def test_to_rupiah_rounds_half_up_not_to_even():
    assert to_rupiah(Decimal("2.5")) == Decimal(3)
    assert to_rupiah(Decimal("3.5")) == Decimal(4)


@pytest.mark.parametrize(
    "bad",
    [-1, "abc", 1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("1e309"), True, None],
    ids=["negative", "text", "fraction", "nan", "infinity", "huge", "bool", "none"],
)
def test_parse_price_refuses_what_is_not_a_whole_non_negative_amount(bad):
    with pytest.raises(ValueError):
        parse_price(bad)


def test_parse_price_accepts_a_whole_float_as_rupiah():
    assert parse_price(32000000.0) == Decimal(32_000_000)


# ---- cart ---------------------------------------------------------------------------------


def test_normalize_adds_duplicate_lines_and_caps_at_99():
    lines = normalize([CartLine("A", 60), CartLine("B", 1), CartLine("A", 60)])
    assert lines == [CartLine("A", MAX_QUANTITY), CartLine("B", 1)]


def test_merge_adds_quantities_of_the_same_product():
    result = merge([CartLine("A", 2)], [CartLine("A", 3)], lambda pid: 50)
    assert result.lines == [CartLine("A", 5)]
    assert result.added == [CartLine("A", 3)]
    assert result.capped == [] and result.dropped == []


def test_merge_caps_a_line_at_the_stock():
    result = merge([CartLine("A", 2)], [CartLine("A", 3)], lambda pid: 4)
    assert result.lines == [CartLine("A", 4)]
    assert result.capped == ["A"]


def test_merge_caps_a_line_at_99():
    result = merge([CartLine("A", 90)], [CartLine("A", 20)], lambda pid: 1000)
    assert result.lines == [CartLine("A", MAX_QUANTITY)]
    assert result.capped == ["A"]


def test_merge_drops_unknown_and_sold_out_products_from_the_browser_cart():
    stock = {"A": 5, "SOLD": 0}
    result = merge([], [CartLine("A", 1), CartLine("GONE", 2), CartLine("SOLD", 1)], stock.get)
    assert result.lines == [CartLine("A", 1)]
    assert result.dropped == ["GONE", "SOLD"]


def test_merge_keeps_saved_lines_the_browser_does_not_mention():
    result = merge([CartLine("A", 2)], [CartLine("B", 1)], lambda pid: 10)
    assert result.lines == [CartLine("A", 2), CartLine("B", 1)]


# ---- catalog index ------------------------------------------------------------------------


@pytest.fixture
def index() -> CatalogIndex:
    return CatalogIndex(
        [
            product("P1", name="Amazon EC2 t3.medium", description="Server virtual", price=500),
            product("P2", name="Amazon S3 Standard", category="storage", price=300),
            product("P3", name="EC2 Spot", description="Server murah", price=100),
            product("P4", name="RDS Postgres", category="database", price=900),
            product("P5", name="Amazon VPC", category="networking", price=200),
        ]
    )


def test_query_filters_by_category(index):
    page = index.query(category="storage")
    assert [p.product_id for p in page.items] == ["P2"] and page.total == 1


def test_query_search_is_case_insensitive_over_name_and_description(index):
    assert {p.product_id for p in index.query(q="SERVER").items} == {"P1", "P3"}
    assert {p.product_id for p in index.query(q="amazon").items} == {"P1", "P2", "P5"}


def test_query_search_terms_are_anded(index):
    page = index.query(q="amazon server")
    assert [p.product_id for p in page.items] == ["P1"]


def test_query_combines_category_and_search(index):
    assert [p.product_id for p in index.query(category="compute", q="murah").items] == ["P3"]


def test_query_total_counts_all_matches_while_limit_caps_the_page(index):
    page = index.query(sort="price_asc", limit=2)
    assert [p.product_id for p in page.items] == ["P3", "P5"]
    assert page.total == 5 and page.next_cursor is not None


def test_last_page_has_no_cursor(index):
    assert index.query(limit=5).next_cursor is None


def test_cursor_survives_deletion_of_the_cursors_product(index):
    first = index.query(sort="price_asc", limit=2)  # P3 (100), P5 (200)
    remaining = [p for p in index.by_id.values() if p.product_id != "P5"]
    after_delete = CatalogIndex(remaining)
    second = after_delete.query(sort="price_asc", limit=2, cursor=first.next_cursor)
    assert [p.product_id for p in second.items] == ["P2", "P1"]


def test_cursor_with_a_filter_neither_repeats_nor_skips(index):
    seen, cursor = [], None
    while True:
        page = index.query(q="amazon", sort="name", limit=1, cursor=cursor)
        seen += [p.product_id for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["P1", "P2", "P5"]


def test_unknown_sort_is_invalid_input(index):
    with pytest.raises(InvalidInput):
        index.query(sort="cheapest")


def test_cursor_from_another_sort_order_is_invalid_input(index):
    cursor = index.query(sort="price_asc", limit=1).next_cursor
    with pytest.raises(InvalidInput):
        index.query(sort="name", cursor=cursor)


def test_garbage_cursor_is_invalid_input(index):
    with pytest.raises(InvalidInput):
        index.query(cursor="%%%not-base64")


# ---- orders -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (PENDING, PAID),
        (PENDING, CANCELLED),
        (PAID, SHIPPED),
        (PAID, CANCELLED),
        (SHIPPED, DELIVERED),
    ],
)
def test_allowed_status_transitions(current, new):
    assert can_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [(PENDING, SHIPPED), (PENDING, DELIVERED), (PAID, PENDING), (SHIPPED, CANCELLED)],
)
def test_status_cannot_skip_steps_or_go_back(current, new):
    assert not can_transition(current, new)


@pytest.mark.parametrize("final", [DELIVERED, CANCELLED])
def test_delivered_and_cancelled_are_final(final):
    assert not any(can_transition(final, status) for status in STATUSES)


def test_order_ids_sort_by_creation_time():
    ids = []
    for _ in range(5):
        ids.append(new_order_id())
        time.sleep(0.002)  # ULIDs are ordered by millisecond
    assert sorted(ids) == ids
    assert all(order_id.startswith("ORD-") for order_id in ids)


# ---- checkout planning --------------------------------------------------------------------


def plan(lines, products, address=None, client_total=None):
    return plan_checkout(
        user_id="USR-1",
        lines=lines,
        products={p.product_id: p for p in products},
        shipping_address=ADDRESS if address is None else address,
        tax_rate=TAX,
        client_total=client_total,
    )


def test_plan_prices_lines_and_adds_tax_half_up():
    result = plan([CartLine("A", 3)], [product("A", price=50)])
    assert result.quote.subtotal == 150 and result.quote.tax == 17 and result.quote.total == 167
    assert result.order_id.startswith("ORD-")


def test_plan_refuses_an_empty_cart():
    with pytest.raises(InvalidInput, match="empty"):
        plan([], [product("A")])


@pytest.mark.parametrize("missing", ["name", "phone", "address", "city", "postal_code"])
def test_plan_refuses_an_address_missing_a_field(missing):
    address = {**ADDRESS, missing: "  "}
    with pytest.raises(InvalidInput, match=missing):
        plan([CartLine("A", 1)], [product("A")], address=address)


def test_plan_names_an_unknown_product():
    with pytest.raises(NotFound) as caught:
        plan([CartLine("NOPE", 1)], [product("A")])
    assert caught.value.details["missing"] == ["NOPE"]


def test_plan_out_of_stock_details_the_short_lines():
    products = [product("A", name="Alpha", stock=2), product("B", stock=10)]
    with pytest.raises(OutOfStock) as caught:
        plan([CartLine("A", 3), CartLine("B", 1)], products)
    assert caught.value.status == 409
    assert caught.value.details["short"] == [
        {"product_id": "A", "name": "Alpha", "requested": 3, "available": 2}
    ]


def test_plan_refuses_a_client_total_off_by_one_rupiah_or_more():
    for forged in (Decimal(168), Decimal(166), Decimal(1)):
        with pytest.raises(TotalMismatch) as caught:
            plan([CartLine("A", 3)], [product("A", price=50)], client_total=forged)
        assert caught.value.details["total_amount"] == 167


def test_plan_accepts_a_client_total_off_by_less_than_one_rupiah():
    for close in (Decimal(167), Decimal("167.99"), Decimal("166.01")):
        result = plan([CartLine("A", 3)], [product("A", price=50)], client_total=close)
        assert result.quote.total == 167
