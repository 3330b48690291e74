"""Midtrans's notifications on POST /api/payments/notifications: verified by signature,
checked against the order's amount, applied to pending orders only, once."""

from __future__ import annotations

import asyncio

import pytest

from cloudstore import create_app
from tests.helpers import bearer
from tests.helpers import place_order as place
from tests.helpers.midtrans import FakeMidtrans

URL = "/api/payments/notifications"
LAMBDA = "PROD-LAMBDA-10M"


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


async def notify(client, midtrans, order, status="settlement", **fields):
    body = midtrans.notification(order["order_id"], order["total_amount"], status, **fields)
    return await client.post(URL, json=body)


async def order_now(client, token, order) -> dict:
    response = await client.get(f"/api/orders/{order['order_id']}", headers=bearer(token))
    return (await response.get_json())["data"]


async def stock(backends) -> int:
    return (await backends.catalog.fetch(LAMBDA)).stock


async def test_settlement_makes_the_order_paid_by_the_payment_provider(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    response = await notify(client, midtrans, order, transaction_id="tx-settle")
    now = await order_now(client, customer_token, order)
    assert response.status_code == 200
    assert now["status"] == "paid"
    assert now["status_history"][-1]["by"] == "payment_provider"
    assert now["payment"]["reference"] == "tx-settle"
    assert now["payment"]["paid_at"]


async def test_a_capture_accepted_by_fraud_checks_makes_the_order_paid(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    await notify(client, midtrans, order, "capture", fraud="accept")
    assert (await order_now(client, customer_token, order))["status"] == "paid"


async def test_a_challenged_capture_changes_nothing(client, seeded, customer_token, midtrans):
    order = await place(client, customer_token)
    response = await notify(client, midtrans, order, "capture", fraud="challenge")
    assert response.status_code == 200
    assert (await order_now(client, customer_token, order))["status"] == "pending"


async def test_a_pending_notification_changes_nothing(client, seeded, customer_token, midtrans):
    order = await place(client, customer_token)
    await notify(client, midtrans, order, "pending", status_code="201")
    now = await order_now(client, customer_token, order)
    assert (now["status"], now["payment"].get("events")) == ("pending", None)


async def test_expire_makes_the_order_expired_and_restores_its_stock(
    client, backends, seeded, customer_token, midtrans
):
    before = await stock(backends)
    order = await place(client, customer_token, quantity=3)
    await notify(client, midtrans, order, "expire", status_code="407")
    assert (await order_now(client, customer_token, order))["status"] == "expired"
    assert await stock(backends) == before


async def test_deny_cancels_the_order_and_restores_its_stock(
    client, backends, seeded, customer_token, midtrans
):
    before = await stock(backends)
    order = await place(client, customer_token, quantity=2)
    await notify(client, midtrans, order, "deny", status_code="202")
    assert (await order_now(client, customer_token, order))["status"] == "cancelled"
    assert await stock(backends) == before


async def test_a_bad_signature_is_a_403_and_changes_nothing(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    body = midtrans.notification(order["order_id"], order["total_amount"])
    body["signature_key"] = "0" * 128
    response = await client.post(URL, json=body)
    assert response.status_code == 403
    assert (await response.get_json())["success"] is False
    assert (await order_now(client, customer_token, order))["status"] == "pending"


async def test_an_amount_that_is_not_the_orders_is_a_409_and_changes_nothing(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    body = midtrans.notification(order["order_id"], order["total_amount"] - 1)
    response = await client.post(URL, json=body)
    assert response.status_code == 409
    assert (await order_now(client, customer_token, order))["status"] == "pending"


async def test_the_same_notification_twice_changes_nothing_the_second_time(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    first = await notify(client, midtrans, order)
    after_first = await order_now(client, customer_token, order)
    second = await notify(client, midtrans, order)
    assert (first.status_code, second.status_code) == (200, 200)
    assert await order_now(client, customer_token, order) == after_first


async def test_an_unknown_order_is_a_404(client, midtrans):
    order = {"order_id": "ORD-01JUNKNOWN0000000000000000", "total_amount": 1000}
    assert (await notify(client, midtrans, order)).status_code == 404


async def test_a_body_that_is_not_a_notification_is_a_400(client):
    response = await client.post(
        URL, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_deny_after_settlement_is_kept_for_review_and_the_order_stays_paid(
    client, seeded, customer_token, midtrans
):
    order = await place(client, customer_token)
    await notify(client, midtrans, order)
    response = await notify(client, midtrans, order, "deny", status_code="202")
    now = await order_now(client, customer_token, order)
    assert response.status_code == 200
    assert now["status"] == "paid"
    assert now["payment"]["status"] == "needs_review"
    assert [e["status"] for e in now["payment"]["events"]] == ["settlement", "deny"]


async def test_a_payment_after_expiry_is_kept_for_review(client, seeded, customer_token, midtrans):
    order = await place(client, customer_token)
    await notify(client, midtrans, order, "expire", status_code="407")
    await notify(client, midtrans, order, "settlement", transaction_id="tx-late")
    now = await order_now(client, customer_token, order)
    assert now["status"] == "expired"
    assert now["payment"]["status"] == "needs_review"
    assert now["payment"]["events"][-1]["reference"] == "tx-late"


async def test_concurrent_expire_notifications_restore_stock_once(
    client, backends, seeded, customer_token, midtrans
):
    before = await stock(backends)
    order = await place(client, customer_token, quantity=4)
    responses = await asyncio.gather(
        *(notify(client, midtrans, order, "expire", status_code="407") for _ in range(4))
    )
    assert {r.status_code for r in responses} == {200}
    assert await stock(backends) == before
    history = (await order_now(client, customer_token, order))["status_history"]
    assert [h["status"] for h in history] == ["pending", "expired"]


async def test_an_oversized_notification_is_refused_unread(client):
    response = await client.post(
        URL, data=b"{" + b" " * 20000 + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_the_openapi_document_describes_the_notification_and_the_payment(client):
    document = await (await client.get("/api/openapi.json")).get_json()
    assert "post" in document["paths"]["/api/payments/notifications"]
    schemas = document["components"]["schemas"]
    assert {"payment", "expires_at"} <= set(schemas["OrderOut"]["properties"])
    assert "instructions" in schemas["PaymentOut"]["properties"]
