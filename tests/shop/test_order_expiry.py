"""Unpaid orders expire: the sweep moves a pending order past its window to `expired` (by
the system), restores its stock exactly once (even with two instances sweeping at once)
and frees the customer's pending-order slot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cloudstore.domain.payments import iso_utc
from cloudstore.shop import order_expiry
from cloudstore.shop.order_expiry import placed_before_id, sweep_expired
from cloudstore.shop.orders import get_own
from cloudstore.shop.payments import confirm_bank_transfer
from cloudstore.stores.dynamo import to_value
from tests.helpers import bearer
from tests.helpers import place_order as place

LAMBDA = "PROD-LAMBDA-10M"
WINDOW = 3600


@pytest.fixture
def settings(settings):
    return settings.with_overrides(payment_window_seconds=WINDOW, max_pending_orders=1)


def after_window(seconds: int = 1) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=WINDOW + seconds)


async def stock(backends) -> int:
    return (await backends.catalog.fetch(LAMBDA)).stock


async def test_a_pending_order_past_its_window_expires(client, backends, seeded, customer_token):
    order = await place(client, customer_token)
    assert await sweep_expired(backends, after_window()) == 1
    expired = await get_own(backends, order["user_id"], order["order_id"])
    assert expired.status == "expired"
    assert expired.status_history[-1].as_dict() == {
        "status": "expired",
        "at": expired.status_history[-1].at,
        "by": "system",
        "reason": "payment window passed",
    }


async def test_an_expired_order_gives_its_stock_back(client, backends, seeded, customer_token):
    before = await stock(backends)
    await place(client, customer_token, quantity=3)
    await sweep_expired(backends, after_window())
    assert await stock(backends) == before


async def test_an_order_within_its_window_stays_pending(client, backends, seeded, customer_token):
    order = await place(client, customer_token)
    assert await sweep_expired(backends, after_window(-60)) == 0
    assert (await get_own(backends, order["user_id"], order["order_id"])).status == "pending"


async def test_a_paid_order_never_expires(client, backends, seeded, customer_token):
    order = await place(client, customer_token)
    await confirm_bank_transfer(backends, "USR-ADMIN", order["order_id"], "TRF-1")
    assert await sweep_expired(backends, after_window()) == 0


async def test_an_expired_order_frees_the_customers_pending_slot(
    client, backends, seeded, customer_token
):
    await place(client, customer_token)
    await sweep_expired(backends, after_window())
    await place(client, customer_token)  # the limit is one: 201 again


async def test_two_instances_sweeping_at_once_restore_stock_exactly_once(
    app, second_app, seeded, customer_token
):
    backends, other = app.extensions["cloudstore"], second_app.extensions["cloudstore"]
    client = app.test_client()
    before = await stock(backends)
    order = await place(client, customer_token, quantity=5)
    counts = await asyncio.gather(
        sweep_expired(backends, after_window()),
        sweep_expired(other, after_window()),
        sweep_expired(backends, after_window()),
    )
    assert sum(counts) == 1
    assert await stock(backends) == before
    history = (await get_own(backends, order["user_id"], order["order_id"])).status_history
    assert [entry.status for entry in history] == ["pending", "expired"]


async def test_a_late_transfer_may_still_be_confirmed_until_the_sweep_expires_the_order(
    client, backends, seeded, customer_token
):
    order = await place(client, customer_token)
    await backends.dynamo.call(  # the window passed an hour ago; no sweep ran since
        "update_item",
        TableName=backends.settings.orders_table,
        Key={"user_id": to_value(order["user_id"]), "order_id": to_value(order["order_id"])},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={
            ":past": to_value(iso_utc(datetime.now(UTC) - timedelta(hours=1)))
        },
    )
    paid = await confirm_bank_transfer(backends, "USR-ADMIN", order["order_id"], "TRF-LATE")
    assert paid.status == "paid"
    assert await sweep_expired(backends) == 0


async def test_an_expired_order_can_no_longer_be_confirmed(
    client, backends, seeded, customer_token, admin_token
):
    order = await place(client, customer_token)
    await sweep_expired(backends, after_window())
    response = await client.post(
        f"/api/admin/orders/{order['order_id']}/status",
        json={"status": "paid", "reference": "TRF-1"},
        headers=bearer(admin_token),
    )
    assert response.status_code == 409


def test_the_candidates_bound_is_below_every_later_order_id():
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    bound = placed_before_id(moment)
    later = placed_before_id(moment + timedelta(milliseconds=1))
    assert bound.startswith("ORD-") and bound < later


async def test_the_app_sweeps_in_the_background(app):
    task = app.extensions["cloudstore_sweeper"]
    assert task is not None and not task.done()


async def test_a_failing_sweep_is_logged_and_the_sweeper_keeps_going(backends, monkeypatch):
    calls = 0
    twice = asyncio.Event()

    async def failing(_backends, now=None):
        nonlocal calls
        calls += 1
        if calls >= 2:
            twice.set()
        raise RuntimeError("boom")

    monkeypatch.setattr(order_expiry, "sweep_expired", failing)
    task = asyncio.create_task(order_expiry.keep_sweeping(backends, 0.001))
    await asyncio.wait_for(twice.wait(), timeout=30)
    assert not task.done()
    await order_expiry.stop_sweeper(task)
