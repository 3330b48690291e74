"""An admin confirms a bank transfer through POST /api/admin/orders/{id}/status with
{"status": "paid", "reference": "..."}: the reference is required, 1-100 printable
characters; `expired` is never an admin's to set."""

from __future__ import annotations

import pytest

from cloudstore.shop.payments import confirm_bank_transfer
from tests.helpers import bearer
from tests.helpers import place_order as place
from tests.helpers.shared_app import admin, app, settings  # noqa: F401 - module fixtures


async def set_status(client, admin, order_id, body):
    return await client.post(f"/api/admin/orders/{order_id}/status", json=body, headers=admin)


async def order_now(client, token, order_id) -> dict:
    response = await client.get(f"/api/orders/{order_id}", headers=bearer(token))
    return (await response.get_json())["data"]


async def test_a_bank_transfer_order_shows_the_transfer_instructions(
    client, seeded, customer_token, settings
):
    order = await place(client, customer_token)
    payment = order["payment"]
    assert payment["provider"] == "bank_transfer"
    assert payment["status"] == "awaiting_payment"
    assert payment["expires_at"] == order["expires_at"]
    assert payment["instructions"] == [
        {
            "bank": "BCA",
            "account_number": "1234567890",
            "account_name": "PT Cloud Store",
            "amount": order["total_amount"],
            "reference": order["order_id"],
        }
    ]


async def test_an_admin_confirms_a_transfer_with_its_reference(
    client, seeded, customer_token, admin
):
    order = await place(client, customer_token)
    response = await set_status(
        client, admin, order["order_id"], {"status": "paid", "reference": " BCA-778899 "}
    )
    now = await order_now(client, customer_token, order["order_id"])
    assert response.status_code == 200
    assert now["status"] == "paid"
    assert now["payment"]["reference"] == "BCA-778899"
    assert now["payment"]["status"] == "paid"
    assert now["payment"]["paid_at"]
    assert now["status_history"][-1]["by"] == "admin"


@pytest.mark.parametrize(
    "reference", [None, "", "   ", "x" * 101, "TRF\x00", "TRF\n1", "TRF\x1b[31m"]
)
async def test_a_missing_overlong_or_unprintable_reference_is_a_400(
    client, seeded, customer_token, admin, reference
):
    order = await place(client, customer_token)
    body = {"status": "paid", **({} if reference is None else {"reference": reference})}
    response = await set_status(client, admin, order["order_id"], body)
    assert response.status_code == 400
    assert (await response.get_json())["success"] is False
    assert (await order_now(client, customer_token, order["order_id"]))["status"] == "pending"


async def test_an_admin_cannot_expire_an_order(client, seeded, customer_token, admin):
    order = await place(client, customer_token)
    response = await set_status(client, admin, order["order_id"], {"status": "expired"})
    assert response.status_code == 400
    assert (await order_now(client, customer_token, order["order_id"]))["status"] == "pending"


async def test_the_shop_confirms_a_transfer_for_the_admin_page(
    client, backends, seeded, customer_token
):
    order = await place(client, customer_token)
    paid = await confirm_bank_transfer(backends, "USR-ADMIN", order["order_id"], "TRF-42")
    assert (paid.status, paid.payment.reference) == ("paid", "TRF-42")
    assert (paid.status_history[-1].by, paid.status_history[-1].by_user_id) == (
        "admin",
        "USR-ADMIN",
    )


async def test_a_cancelled_order_cannot_be_confirmed(client, seeded, customer_token, admin):
    order = await place(client, customer_token)
    await client.post(f"/api/orders/{order['order_id']}/cancel", headers=bearer(customer_token))
    response = await set_status(
        client, admin, order["order_id"], {"status": "paid", "reference": "TRF-1"}
    )
    assert response.status_code == 409


async def test_the_customer_cancel_is_recorded_as_by_the_customer(client, seeded, customer_token):
    order = await place(client, customer_token)
    response = await client.post(
        f"/api/orders/{order['order_id']}/cancel", headers=bearer(customer_token)
    )
    entry = (await response.get_json())["data"]["status_history"][-1]
    assert (entry["status"], entry["by"], entry["by_user_id"]) == (
        "cancelled",
        "customer",
        order["user_id"],
    )
