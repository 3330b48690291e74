"""Midtrans at checkout: a Snap transaction per order, made through Midtrans's documented
REST API (a local stand-in here), and an order that stands when Midtrans does not answer."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import pytest

from cloudstore import create_app
from cloudstore.shop.order_expiry import sweep_expired
from cloudstore.shop.orders import change_status, get_own
from cloudstore.shop.payments import ensure_payment_link
from tests.helpers import bearer
from tests.helpers import place_order as place
from tests.helpers.midtrans import SERVER_KEY, FakeMidtrans


@pytest.fixture(scope="module")
def midtrans():
    with FakeMidtrans() as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(module_settings, midtrans):
    return module_settings.with_overrides(**midtrans.settings())


@pytest.fixture(scope="module")
async def app(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture(autouse=True)
def midtrans_answers(midtrans):
    midtrans.down = midtrans.hang = False
    midtrans.release.clear()
    yield
    midtrans.release.set()


def snap_request_for(midtrans, order_id: str) -> dict:
    return next(
        body
        for body in midtrans.snap_requests()
        if body["transaction_details"]["order_id"] == order_id
    )


async def test_checkout_gives_the_order_midtrans_payment_page(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    assert order["payment"]["provider"] == "midtrans"
    assert order["payment"]["redirect_url"].startswith(midtrans.url + "/snap/v4/redirection/")


async def test_the_snap_transaction_asks_the_order_total_as_an_integer(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    details = snap_request_for(midtrans, order["order_id"])["transaction_details"]
    assert details == {"order_id": order["order_id"], "gross_amount": order["total_amount"]}
    assert isinstance(details["gross_amount"], int)


async def test_the_snap_items_add_up_to_the_amount_with_a_tax_line(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token, quantity=3)
    items = snap_request_for(midtrans, order["order_id"])["item_details"]
    assert sum(item["price"] * item["quantity"] for item in items) == order["total_amount"]
    assert items[-1]["price"] == order["tax"]


async def test_the_snap_transaction_expires_with_the_order(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    expiry = snap_request_for(midtrans, order["order_id"])["expiry"]
    assert expiry["unit"] == "minute"
    assert expiry["duration"] == 24 * 60
    assert expiry["start_time"].endswith(" +0000")
    assert expiry["start_time"][:16] == order["created_at"][:16].replace("T", " ")


async def test_midtrans_sends_the_shopper_back_to_the_order_page(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    callbacks = snap_request_for(midtrans, order["order_id"])["callbacks"]
    assert callbacks == {"finish": f"https://shop.example.com/orders/{order['order_id']}"}


async def test_snap_is_called_with_the_server_key_as_basic_auth(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    headers = next(
        headers
        for _, path, headers, body in midtrans.requests
        if body and body["transaction_details"]["order_id"] == order["order_id"]
    )
    assert (
        headers["Authorization"] == "Basic " + base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
    )
    assert headers["X-Override-Notification"] == (
        "https://shop.example.com/api/payments/notifications"
    )


async def test_an_order_is_placed_while_midtrans_is_down(client, seeded, customer_token, midtrans):
    midtrans.down = True
    order = await place(client, customer_token)
    assert order["status"] == "pending"
    assert order["payment"]["redirect_url"] is None


async def test_the_checkout_does_not_wait_for_a_midtrans_that_hangs(
    client, seeded, customer_token, midtrans
):
    midtrans.hang = True
    order = await place(client, customer_token)
    assert (order["status"], order["payment"]["redirect_url"]) == ("pending", None)


async def test_the_payment_page_is_made_later_when_midtrans_answers_again(
    client, backends, seeded, customer_token, midtrans
):
    midtrans.down = True
    placed = await place(client, customer_token)
    midtrans.down = False
    user_id = placed["user_id"]
    order = await ensure_payment_link(
        backends, await get_own(backends, user_id, placed["order_id"])
    )
    stored = await get_own(backends, user_id, placed["order_id"])
    assert order.payment.redirect_url.startswith(midtrans.url)
    assert stored.payment.redirect_url == order.payment.redirect_url


async def test_the_order_api_makes_the_page_the_checkout_could_not(
    client, seeded, customer_token, midtrans
):
    midtrans.down = True
    placed = await place(client, customer_token)
    midtrans.down = False
    response = await client.get(f"/api/orders/{placed['order_id']}", headers=bearer(customer_token))
    assert (await response.get_json())["data"]["payment"]["redirect_url"].startswith(midtrans.url)


async def test_two_workers_making_the_page_at_once_keep_one(
    client, backends, seeded, customer_token, midtrans
):
    midtrans.down = True
    placed = await place(client, customer_token)
    midtrans.down = False
    order = await get_own(backends, placed["user_id"], placed["order_id"])
    first, second = await asyncio.gather(
        ensure_payment_link(backends, order), ensure_payment_link(backends, order)
    )
    stored = await get_own(backends, placed["user_id"], placed["order_id"])
    assert first.payment.redirect_url == second.payment.redirect_url == stored.payment.redirect_url


async def test_a_paid_order_gets_no_payment_page(
    client, backends, seeded, customer_token, midtrans
):
    midtrans.down = True
    placed = await place(client, customer_token)
    midtrans.down = False
    order = await get_own(backends, placed["user_id"], placed["order_id"])
    paid = await change_status(backends, order, "paid", by="admin", by_user_id="USR-ADMIN")
    assert (await ensure_payment_link(backends, paid)).payment.redirect_url is None


def a_day_later() -> datetime:
    return datetime.now(UTC) + timedelta(days=1, seconds=1)


async def test_the_sweep_applies_a_payment_midtrans_knows_of_instead_of_expiring(
    client, backends, seeded, customer_token, midtrans
):
    placed = await place(client, customer_token)
    midtrans.statuses[placed["order_id"]] = ("settlement", "accept", placed["total_amount"])
    await sweep_expired(backends, a_day_later())
    order = await get_own(backends, placed["user_id"], placed["order_id"])
    assert (order.status, order.status_history[-1].by) == ("paid", "payment_provider")


async def test_the_sweep_expires_a_midtrans_order_when_midtrans_does_not_answer(
    client, backends, seeded, customer_token, midtrans
):
    placed = await place(client, customer_token)
    midtrans.down = True
    await sweep_expired(backends, a_day_later())
    order = await get_own(backends, placed["user_id"], placed["order_id"])
    assert order.status == "expired"


async def test_the_sweep_expires_a_midtrans_order_midtrans_says_is_still_unpaid(
    client, backends, seeded, customer_token, midtrans
):
    placed = await place(client, customer_token)
    midtrans.statuses[placed["order_id"]] = ("pending", None, placed["total_amount"])
    await sweep_expired(backends, a_day_later())
    order = await get_own(backends, placed["user_id"], placed["order_id"])
    assert (order.status, order.status_history[-1].by) == ("expired", "system")
