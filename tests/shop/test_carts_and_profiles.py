"""Cart changes and profile updates: the shop functions the API and the pages share."""

from __future__ import annotations

import pytest

from cloudstore.domain.cart import CartLine
from cloudstore.shop import accounts, carts
from cloudstore.shop.catalog import create_product
from tests.helpers import PASSWORD, unique_email

FIELDS = {"name": "Tiny VM", "category": "compute", "price": 1000, "stock": 3}


@pytest.fixture
async def product(backends):
    return await create_product(backends, FIELDS)


@pytest.fixture
async def user(backends):
    session = await accounts.register(
        backends, name="Sari", email=unique_email(), password=PASSWORD
    )
    return session.user


async def test_adding_more_than_the_stock_saves_the_stock(backends, product, user):
    _, change = await carts.add_item(backends, user.user_id, [], product.product_id, 5)
    assert await carts.saved_lines(backends, user.user_id) == [CartLine(product.product_id, 3)]
    assert change.capped


async def test_replacing_a_cart_caps_each_line_at_its_stock(backends, product, user):
    result = await carts.replace(backends, user.user_id, [CartLine(product.product_id, 9)])
    assert (result.lines, result.capped) == (
        [CartLine(product.product_id, 3)],
        [product.product_id],
    )


async def test_a_browser_cart_is_not_saved(backends, product, user):
    await carts.add_item(backends, None, [], product.product_id, 1)
    assert await carts.saved_lines(backends, user.user_id) == []


async def test_a_profile_update_refreshes_the_cached_user(backends, user):
    backends.user_cache.put(user)
    await accounts.update_profile(backends, user.user_id, {"city": "Bandung"})
    assert backends.user_cache.get(user.user_id).city == "Bandung"


async def test_a_profile_update_returns_the_saved_user(backends, user):
    updated = await accounts.update_profile(backends, user.user_id, {"phone": "+62 811 111 111"})
    assert updated.phone == "+62 811 111 111"
