"""The one bounded number parser (`domain/numbers.py`): refused by its text, never converted."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.numbers import (
    NumberTooLarge,
    decimal_number,
    json_float,
    json_int,
    whole_number,
)


def loads(text: str):
    return json.loads(text, parse_int=json_int, parse_float=json_float)


@pytest.mark.parametrize(
    "literal",
    [
        "1e999999999",
        "-1e999999999",
        "1e-999999999",
        "9" * 5000,
        "1" + "0" * 100,
        "1e401",
        "0e999999999",
    ],
)
def test_the_json_hooks_refuse_huge_literals(literal):
    with pytest.raises(NumberTooLarge):
        loads(f'{{"quantity": {literal}}}')


def test_the_json_hooks_keep_ordinary_numbers():
    text = '{"a": 5, "b": 59.0, "c": 1e15, "d": 0.30000000000000004, "e": 0, "f": -1.8e-147}'
    assert loads(text) == {
        "a": 5,
        "b": Decimal("59.0"),
        "c": Decimal("1e15"),
        "d": Decimal("0.30000000000000004"),
        "e": 0,
        "f": Decimal("-1.8e-147"),
    }


@pytest.mark.parametrize("text", ["1e999999999", "9" * 5000, "٩٩", "1.0", " ", "", None, "0x10"])
def test_whole_number_refuses_anything_but_a_few_ascii_digits(text):
    with pytest.raises(InvalidInput) as caught:
        whole_number(text, name="quantity", minimum=1, maximum=99)
    assert caught.value.message == "quantity must be a whole number from 1 to 99"


@pytest.mark.parametrize(("text", "number"), [(" 7 ", 7), ("+3", 3), ("-2", -2), ("099", 99)])
def test_whole_number_reads_plain_numbers(text, number):
    assert whole_number(text, name="n", minimum=-5, maximum=99) == number


@pytest.mark.parametrize("text", ["1e999999999", "NaN", "Infinity", "9" * 50, "1,5", "٣"])
def test_decimal_number_refuses_huge_or_non_finite_text(text):
    with pytest.raises(InvalidInput):
        decimal_number(text, name="cursor")


def test_decimal_number_reads_a_price():
    assert decimal_number("650000", name="price") == Decimal(650000)
