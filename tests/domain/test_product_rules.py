"""Product field rules: one set for the API, the admin form and seed files."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.product_rules import (
    DESCRIPTION_MAX,
    IMAGE_URL_MAX,
    MAX_STOCK_DELTA,
    NAME_MAX,
    check_category,
    check_description,
    check_fields,
    check_image_url,
    check_name,
    check_price,
    check_stock,
    check_stock_delta,
)


def refusal(rule, *args) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        rule(*args)
    return caught.value


def test_a_name_with_a_control_character_is_refused():
    assert refusal(check_name, "Bell\x07 Server").code == ErrorCode.CONTROL_CHARACTERS


def test_a_name_collapses_whitespace_to_one_line():
    assert check_name("  Big\t\n Server  ") == "Big Server"


def test_a_blank_name_is_required():
    assert refusal(check_name, "   ").code == ErrorCode.REQUIRED


def test_a_name_over_the_limit_is_too_long():
    assert refusal(check_name, "x" * (NAME_MAX + 1)).code == ErrorCode.TOO_LONG


def test_a_description_keeps_its_line_breaks():
    assert check_description("one\r\ntwo\n") == "one\ntwo"


def test_a_description_with_a_control_character_is_refused():
    assert refusal(check_description, "nul\x00").code == ErrorCode.CONTROL_CHARACTERS


def test_a_description_over_4000_characters_is_too_long():
    assert refusal(check_description, "x" * (DESCRIPTION_MAX + 1)).field == "description"


def test_an_image_url_over_500_characters_is_too_long():
    url = "https://example.com/" + "a" * IMAGE_URL_MAX
    assert refusal(check_image_url, url).code == ErrorCode.TOO_LONG


def test_an_image_url_outside_http_and_static_is_refused():
    assert refusal(check_image_url, "javascript:alert(1)").field == "image_url"


def test_a_category_is_lowered_and_must_be_configured():
    assert check_category(" Compute ", ("compute",)) == "compute"


def test_an_unknown_category_is_refused():
    assert refusal(check_category, "toys", ("compute",)).field == "category"


def test_a_price_is_whole_rupiah():
    assert check_price("650000") == Decimal(650000)


def test_a_fractional_price_is_refused_on_the_price_field():
    assert refusal(check_price, "1.5").field == "price"


def test_a_boolean_is_not_a_stock_level():
    assert refusal(check_stock, True).field == "stock"


def test_a_stock_change_beyond_100_000_is_refused():
    assert refusal(check_stock_delta, MAX_STOCK_DELTA + 1).field == "delta"


def test_a_stock_change_of_zero_is_refused():
    assert refusal(check_stock_delta, 0).field == "delta"


def test_check_fields_checks_only_the_fields_present():
    assert check_fields({"name": " A ", "price": None}, ("compute",)) == {"name": "A"}
