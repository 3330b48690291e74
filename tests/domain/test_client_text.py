"""Client text decoded defensively: size and nesting bounded before `json.loads`."""

from __future__ import annotations

import pytest

from cloudstore.domain.client_text import (
    RefusedText,
    bounded_json,
    nesting_depth,
    split_url,
    unpadded_base64,
)
from cloudstore.domain.errors import InvalidInput


def test_nesting_is_counted_without_recursion():
    assert nesting_depth("[" * 100_000, limit=8) == 9


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nesting_depth('[{"a": "[[[[\\"[[[["}]', limit=8) == 2


def test_deep_json_is_refused_before_it_is_parsed():
    with pytest.raises(RefusedText):
        bounded_json("[" * 3000 + "]" * 3000, max_chars=10_000)


def test_json_longer_than_its_bound_is_refused():
    with pytest.raises(RefusedText):
        bounded_json("[1, 2, 3]", max_chars=5)


def test_huge_numbers_in_client_json_are_refused():
    with pytest.raises(RefusedText):
        bounded_json("[1e999999999]", max_chars=100)


def test_undecodable_bytes_are_refused():
    with pytest.raises(RefusedText):
        bounded_json(b"\xff\xfe", max_chars=100)


def test_a_refusal_is_both_a_400_and_a_value_error():
    with pytest.raises(RefusedText) as caught:
        bounded_json("nope", max_chars=100)
    assert isinstance(caught.value, InvalidInput) and isinstance(caught.value, ValueError)


def test_shallow_json_is_read_with_bounded_numbers():
    assert bounded_json('[{"quantity": 2}]', max_chars=100) == [{"quantity": 2}]


def test_base64_outside_the_url_safe_alphabet_is_refused():
    with pytest.raises(RefusedText):
        unpadded_base64("abc+/=", max_chars=100)


def test_an_unparseable_url_splits_to_nothing():
    assert split_url("http://[broken").path == ""
