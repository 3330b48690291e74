"""The order lifecycle: admin status changes, customer cancellation, stock restored once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cloudstore.domain.orders import STATUSES, TRANSITIONS, can_transition
from tests.helpers import bearer, register
from tests.helpers import place_order as place

ALLOWED = {
    ("pending", "paid"),
    ("pending", "cancelled"),
    ("pending", "expired"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("shipped", "delivered"),
}


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_transition_table_allows_exactly_the_lifecycle(current, new):
    assert can_transition(current, new) == ((current, new) in ALLOWED)


def test_every_status_has_a_row_in_the_transition_table():
    assert set(TRANSITIONS) == set(STATUSES)


async def stock(client, product_id="PROD-LAMBDA-10M") -> int:
    return (await (await client.get(f"/api/products/{product_id}")).get_json())["data"]["stock"]


async def set_status(client, admin_token, order_id, status):
    # A bank transfer is confirmed paid with its transfer reference.
    body = {"status": status, **({"reference": "TRF-1"} if status == "paid" else {})}
    return await client.post(
        f"/api/admin/orders/{order_id}/status", json=body, headers=bearer(admin_token)
    )


async def test_customer_cancel_of_a_pending_order_restores_its_stock(
    client, seeded, customer_token
):
    before = await stock(client)
    order = await place(client, customer_token, quantity=3)
    assert await stock(client) == before - 3
    response = await client.post(
        f"/api/orders/{order['order_id']}/cancel", headers=bearer(customer_token)
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["data"]["status"] == "cancelled"
    assert [h["status"] for h in body["data"]["status_history"]] == ["pending", "cancelled"]
    assert await stock(client) == before


async def test_four_concurrent_cancels_restore_stock_exactly_once(
    client, backends, seeded, customer_token
):
    before = await stock(client)
    order = await place(client, customer_token, quantity=5)
    responses = await asyncio.gather(
        *(
            client.post(f"/api/orders/{order['order_id']}/cancel", headers=bearer(customer_token))
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    fresh = await backends.catalog.fetch("PROD-LAMBDA-10M")
    assert fresh.stock == before


async def test_customer_cannot_cancel_a_paid_order(client, seeded, customer_token, admin_token):
    order = await place(client, customer_token)
    assert (await set_status(client, admin_token, order["order_id"], "paid")).status_code == 200
    response = await client.post(
        f"/api/orders/{order['order_id']}/cancel", headers=bearer(customer_token)
    )
    assert response.status_code == 409


async def test_customer_cannot_cancel_another_customers_order(client, seeded, customer_token):
    order = await place(client, customer_token)
    stranger = await register(client)
    response = await client.post(
        f"/api/orders/{order['order_id']}/cancel", headers=bearer(stranger)
    )
    assert response.status_code == 404


async def test_admin_moves_an_order_through_to_delivered(
    client, seeded, customer_token, admin_token
):
    order = await place(client, customer_token)
    for status in ("paid", "shipped", "delivered"):
        response = await set_status(client, admin_token, order["order_id"], status)
        assert response.status_code == 200
        assert (await response.get_json())["data"]["status"] == status
    mine = await client.get(f"/api/orders/{order['order_id']}", headers=bearer(customer_token))
    history = (await mine.get_json())["data"]["status_history"]
    assert [h["status"] for h in history] == ["pending", "paid", "shipped", "delivered"]


async def test_a_transition_outside_the_lifecycle_is_a_409(
    client, seeded, customer_token, admin_token
):
    order = await place(client, customer_token)
    response = await set_status(client, admin_token, order["order_id"], "delivered")
    assert response.status_code == 409
    assert (await response.get_json())["success"] is False


async def test_unknown_status_is_a_400(client, seeded, customer_token, admin_token):
    order = await place(client, customer_token)
    response = await set_status(client, admin_token, order["order_id"], "lost")
    assert response.status_code == 400


async def test_admin_cancel_of_a_paid_order_restores_stock(
    client, seeded, customer_token, admin_token
):
    before = await stock(client)
    order = await place(client, customer_token, quantity=4)
    await set_status(client, admin_token, order["order_id"], "paid")
    assert (
        await set_status(client, admin_token, order["order_id"], "cancelled")
    ).status_code == 200
    assert await stock(client) == before


async def test_cancel_restores_stock_of_a_product_that_changed_category(
    client, backends, seeded, customer_token, admin_token
):
    before = await stock(client, "PROD-VPC-STARTER")
    order = await place(client, customer_token, product_id="PROD-VPC-STARTER", quantity=2)
    moved = await client.put(
        "/api/admin/products/PROD-VPC-STARTER",
        json={"category": "compute"},
        headers=bearer(admin_token),
    )
    assert moved.status_code == 200
    await client.post(f"/api/orders/{order['order_id']}/cancel", headers=bearer(customer_token))
    assert (await backends.catalog.fetch("PROD-VPC-STARTER")).stock == before


async def test_unknown_order_status_change_is_a_404(client, seeded, admin_token):
    response = await set_status(client, admin_token, "ORD-01JUNKNOWN000000000000000", "paid")
    assert response.status_code == 404


async def test_admin_order_list_is_newest_first_across_customers_with_user_ids(
    client, seeded, admin_token
):
    first, second = await register(client), await register(client)
    a = await place(client, first)
    b = await place(client, second)
    body = await (await client.get("/api/admin/orders", headers=bearer(admin_token))).get_json()
    assert [o["order_id"] for o in body["data"]] == [b["order_id"], a["order_id"]]
    assert {o["user_id"] for o in body["data"]} == {a["user_id"], b["user_id"]}


async def test_admin_order_list_filters_by_status_and_pages_with_a_cursor(
    client, seeded, customer_token, admin_token
):
    orders = [await place(client, customer_token, quantity=1) for _ in range(3)]
    await set_status(client, admin_token, orders[0]["order_id"], "paid")
    paid = await (
        await client.get("/api/admin/orders?status=paid", headers=bearer(admin_token))
    ).get_json()
    assert [o["order_id"] for o in paid["data"]] == [orders[0]["order_id"]]
    page = await (
        await client.get("/api/admin/orders?limit=2", headers=bearer(admin_token))
    ).get_json()
    assert page["count"] == 2 and page["next_cursor"]
    rest = await (
        await client.get(
            f"/api/admin/orders?limit=2&cursor={page['next_cursor']}", headers=bearer(admin_token)
        )
    ).get_json()
    assert [o["order_id"] for o in page["data"] + rest["data"]] == [
        o["order_id"] for o in reversed(orders)
    ]


async def test_admin_order_list_is_a_query_never_a_scan(client, backends, seeded, admin_token):
    calls = []
    backends.dynamo.client.meta.events.register(
        "before-call.dynamodb", lambda event_name, **_: calls.append(event_name.split(".")[-1])
    )
    await client.get("/api/admin/orders", headers=bearer(admin_token))
    assert "Scan" not in calls and "Query" in calls


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/orders"),
        ("POST", "/api/admin/orders/ORD-X/status"),
    ],
)
async def test_admin_order_routes_refuse_anonymous_and_customers(
    client, customer_token, method, path
):
    anonymous = await client.open(path, method=method, json={"status": "paid"})
    customer = await client.open(
        path, method=method, json={"status": "paid"}, headers=bearer(customer_token)
    )
    assert (anonymous.status_code, customer.status_code) == (401, 403)


async def test_admin_status_change_writes_one_audit_line(
    client, seeded, customer_token, admin_token, caplog
):
    order = await place(client, customer_token)
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        await set_status(client, admin_token, order["order_id"], "paid")
    records = [r for r in caplog.records if r.name == "cloudstore.audit"]
    assert len(records) == 1
    assert records[0].audit["before"] == {"status": "pending"}
    assert records[0].audit["after"] == {"status": "paid"}
