"""One rule for how many of a product a cart line may hold, and the changes built on it."""

from __future__ import annotations

from cloudstore.domain.cart import (
    MAX_QUANTITY,
    CartLine,
    add_to_line,
    allowed_quantity,
    cap_lines,
    set_line,
)


def test_a_line_may_hold_what_is_in_stock():
    assert allowed_quantity(7) == 7


def test_a_line_never_holds_more_than_the_maximum_quantity():
    assert allowed_quantity(10_000) == MAX_QUANTITY


def test_a_sold_out_product_allows_nothing():
    assert allowed_quantity(0) == 0


def test_adding_is_capped_at_the_stock():
    change = add_to_line([CartLine("A", 2)], "A", 5, stock=4)
    assert (change.granted, change.quantity, change.capped) == (2, 4, True)


def test_adding_to_a_full_line_grants_nothing():
    assert add_to_line([CartLine("A", 4)], "A", 1, stock=4).granted == 0


def test_adding_a_new_product_appends_its_line():
    assert add_to_line([CartLine("A", 1)], "B", 2, stock=9).lines == [
        CartLine("A", 1),
        CartLine("B", 2),
    ]


def test_setting_a_line_is_capped_at_the_stock():
    assert set_line([CartLine("A", 1)], "A", 8, stock=3).lines == [CartLine("A", 3)]


def test_setting_a_line_to_zero_removes_it():
    assert set_line([CartLine("A", 1), CartLine("B", 1)], "A", 0, stock=3).lines == [
        CartLine("B", 1)
    ]


def test_capping_a_cart_lowers_lines_above_their_stock():
    result = cap_lines([CartLine("A", 9)], {"A": 2}.get)
    assert (result.lines, result.capped) == ([CartLine("A", 2)], ["A"])


def test_capping_a_cart_leaves_out_sold_out_products():
    result = cap_lines([CartLine("A", 1), CartLine("B", 1)], {"A": 0, "B": 5}.get)
    assert (result.lines, result.dropped) == ([CartLine("B", 1)], ["A"])
