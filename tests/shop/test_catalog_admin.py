"""Admin product writes in shop: one atomic write per edit, audited with the acting user and
the real values before and after."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput
from cloudstore.shop.catalog import adjust_stock, create_product, edit_product, update_product

FIELDS = {"name": "Edge Cache", "category": "networking", "price": 50000, "stock": 4}


def audits(caplog) -> list[dict]:
    return [r.audit for r in caplog.records if r.name == "cloudstore.audit"]


@pytest.fixture
async def product(backends):
    return await create_product(backends, FIELDS, by="USR-SETUP")


async def test_an_edit_changes_fields_and_stock_in_one_write(backends, product, monkeypatch):
    calls = []
    original = backends.dynamo.call

    async def counting(operation, *args, **kwargs):
        # A stock change is one transaction (with its idempotency record and change entry).
        actions = [next(iter(a.values())) for a in kwargs.get("TransactItems", [])]
        targets = [kwargs] + actions
        for target in targets:
            key = target.get("Key") or target.get("Item") or {}
            if key.get("product_id") == {"S": product.product_id}:
                calls.append(operation)  # a write to the product itself, not the change log
        return await original(operation, *args, **kwargs)

    monkeypatch.setattr(backends.dynamo, "call", counting)
    await edit_product(
        backends, product.product_id, {"price": 60000}, stock_delta=3, by="USR-ADMIN"
    )
    assert calls == ["transact_write_items"]


async def test_an_edit_applies_fields_and_stock_together(backends, product):
    edit = await edit_product(backends, product.product_id, {"price": 60000}, stock_delta=3)
    fresh = await backends.catalog.fetch(product.product_id)
    assert (fresh.price, fresh.stock) == (Decimal(60000), 7) == (edit.product.price, 7)


async def test_an_edit_below_zero_stock_changes_nothing(backends, product):
    with pytest.raises(Conflict) as refused:
        await edit_product(backends, product.product_id, {"price": 1}, stock_delta=-5)
    assert refused.value.code == ErrorCode.STOCK_BELOW_ZERO
    fresh = await backends.catalog.fetch(product.product_id)
    assert (fresh.price, fresh.stock) == (Decimal(50000), 4)


async def test_a_category_move_with_a_stock_change_is_one_transaction(backends, product):
    await edit_product(backends, product.product_id, {"category": "storage"}, stock_delta=-1)
    fresh = await backends.catalog.fetch(product.product_id)
    assert (fresh.category, fresh.stock) == ("storage", 3)


async def test_an_edit_is_audited_with_the_acting_user_and_real_before_values(
    backends, product, caplog
):
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        await edit_product(
            backends, product.product_id, {"name": "Edge Cache 2"}, stock_delta=2, by="USR-7"
        )
    assert audits(caplog) == [
        {
            "who": "USR-7",
            "action": "update_product",
            "target": product.product_id,
            "before": {"name": "Edge Cache", "stock": 4},
            "after": {"name": "Edge Cache 2", "stock": 6},
        }
    ]


async def test_an_edit_that_changes_nothing_writes_and_audits_nothing(backends, product, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        edit = await edit_product(backends, product.product_id, {"name": "Edge Cache"}, by="U")
    assert (edit.changed, audits(caplog)) == (False, [])


async def test_an_update_refuses_a_control_character_name(backends, product):
    with pytest.raises(InvalidInput) as refused:
        await update_product(backends, product.product_id, {"name": "Bad\x1bName"})
    assert refused.value.code == ErrorCode.CONTROL_CHARACTERS


async def test_a_stock_adjustment_is_audited_with_the_acting_user(backends, product, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        await adjust_stock(backends, product.product_id, -1, by="USR-9")
    assert audits(caplog)[0]["who"] == "USR-9"


async def test_a_write_without_an_acting_user_is_audited_as_the_system(backends, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        await create_product(backends, FIELDS)
    assert audits(caplog)[0]["who"] == "system"
