"""The shopper's order page: the status in words, how to pay (bank transfer, Midtrans), the
time left, the timeline (who did what), cancelling (htmx and no-JS, with confirmation) and
the order list's "what it waits for"."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from cloudstore.domain.errors import BackendUnavailable
from cloudstore.domain.orders import BY_PAYMENT_PROVIDER, BY_SYSTEM, EXPIRED, PAID, SHIPPED
from cloudstore.domain.payments import MIDTRANS
from cloudstore.domain.shop_time import shop_clock
from cloudstore.shop import payments as payment_use_cases
from cloudstore.shop.accounts import create_admin
from cloudstore.shop.orders import admin_set_status, change_status, find_any
from cloudstore.web.html.csrf import CSRF_FIELD
from tests.helpers import ADMIN_PASSWORD, register, unique_email
from tests.helpers import place_order as place
from tests.helpers.pages import csrf_token, htmx, is_fragment, text
from tests.helpers.payments import give_payment, strip_payment
from tests.helpers.shared_app import app, settings  # noqa: F401 - module fixtures

LAMBDA = "PROD-LAMBDA-10M"
SNAP = "https://app.sandbox.midtrans.com/snap/v4/redirection/abc-123"


async def shopper(app):
    client = app.test_client()
    token = await register(client)
    client.set_cookie("localhost", "cs_session", token)
    return client, token


async def new_order(app, backends, **payment):
    """A shopper and their order of 2 × Lambda, with a payment window."""
    client, token = await shopper(app)
    data = await place(client, token, LAMBDA, 2)
    order = await give_payment(backends, data["order_id"], **payment)
    return client, order


async def new_admin(backends):
    return await create_admin(
        backends, email=unique_email("admin"), password=ADMIN_PASSWORD, name="Admin"
    )


async def stock(backends) -> int:
    return (await backends.catalog.fetch(LAMBDA)).stock


def panel(body: str) -> str:
    match = re.search(r'<section id="order-panel".*?</section>', body, re.S)
    assert match, "no order panel"
    return re.sub(r"\s+", " ", match.group(0))


# --- how to pay and the time left -------------------------------------------------------------


async def test_a_bank_transfer_order_lists_each_account_the_exact_amount_and_the_reference(
    app, backends, seeded
):
    client, order = await new_order(app, backends)
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert "How to pay: bank transfer" in body
    assert "1234567890" in body and "0987654321" in body and "a.n. PT Cloud Store" in body
    digits = str(int(order.total_amount))
    assert f'<code class="copy-value" id="pay-amount">{digits}</code>' in body
    assert f'<code class="copy-value" id="pay-reference">{order.order_id}</code>' in body


async def test_a_pending_order_shows_the_time_left_and_the_deadline_in_the_shop_zone(
    app, backends, seeded
):
    client, order = await new_order(app, backends)
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    deadline = shop_clock().when(order.payment.expires_at)
    assert re.search(r"23 h 1[12] min</span> left</strong> — pay by " + re.escape(deadline), body)
    assert deadline.endswith(" WIB")
    assert f'data-expires-at="{order.payment.expires_at}"' in body


async def test_a_midtrans_order_offers_its_payment_page(app, backends, seeded):
    client, order = await new_order(app, backends, provider=MIDTRANS, redirect_url=SNAP)
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert f'id="pay-now" href="{SNAP}"' in body and "Pay now" in body
    assert "bank transfer" not in body


async def test_right_after_checkout_the_order_page_sends_the_shopper_on_to_pay(
    app, backends, seeded
):
    client, order = await new_order(app, backends, provider=MIDTRANS, redirect_url=SNAP)
    after_checkout = await text(await client.get(f"/orders/{order.order_id}?pay=now"))
    assert f'<meta http-equiv="refresh" content="3;url={SNAP}">' in after_checkout
    later = await text(await client.get(f"/orders/{order.order_id}"))
    assert 'http-equiv="refresh"' not in later


async def test_a_midtrans_order_without_a_payment_page_asks_the_provider_for_one(
    app, backends, seeded, monkeypatch
):
    client, order = await new_order(app, backends, provider=MIDTRANS)
    asked = []

    async def ensure(backends, order):
        asked.append(order.order_id)
        return replace(order, payment=replace(order.payment, redirect_url=SNAP))

    monkeypatch.setattr(payment_use_cases, "ensure_payment_link", ensure)
    body = await text(await client.get(f"/orders/{order.order_id}"))
    assert asked == [order.order_id]
    assert f'href="{SNAP}"' in body


async def test_a_provider_that_does_not_answer_leaves_the_order_page_readable(
    app, backends, seeded, monkeypatch
):
    client, order = await new_order(app, backends, provider=MIDTRANS)

    async def unreachable(backends, order):
        raise BackendUnavailable("Midtrans")

    monkeypatch.setattr(payment_use_cases, "ensure_payment_link", unreachable)
    response = await client.get(f"/orders/{order.order_id}")
    assert response.status_code == 200
    assert "The payment page is not ready yet" in await text(response)


async def test_a_payment_page_that_is_not_a_web_address_is_not_linked(app, backends, seeded):
    client, order = await new_order(
        app, backends, provider=MIDTRANS, redirect_url="javascript:alert(1)"
    )
    body = await text(await client.get(f"/orders/{order.order_id}"))
    assert "javascript:" not in body and 'id="pay-now"' not in body


async def test_an_order_past_its_time_says_so_and_offers_no_payment(app, backends, seeded):
    client, order = await new_order(app, backends, expires_in=timedelta(minutes=-5))
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert "The time to pay has passed" in body
    assert "How to pay" not in body and " left</strong>" not in body


# --- the timeline -----------------------------------------------------------------------------


async def test_the_timeline_says_when_what_and_who(app, backends, seeded):
    client, order = await new_order(app, backends)
    admin = await new_admin(backends)
    await admin_set_status(backends, admin.user_id, order.order_id, PAID, reference="TRF-1")
    current = await find_any(backends, order.order_id)
    await change_status(backends, current, SHIPPED, by=BY_SYSTEM, reason="courier picked it up")
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    entries = re.findall(r'<li class="timeline-entry[^"]*">(.*?)</li>', body)
    assert len(entries) == 3
    assert "Order placed" in entries[0] and "by you" in entries[0]
    assert "Paid" in entries[1] and "by the shop" in entries[1]
    assert "Shipped" in entries[2] and "by the system" in entries[2]
    assert "courier picked it up" in entries[2]
    assert all(" WIB</time>" in entry for entry in entries)


async def test_a_payment_by_the_provider_is_credited_to_the_payment_provider(app, backends, seeded):
    client, order = await new_order(app, backends, provider=MIDTRANS, redirect_url=SNAP)
    await change_status(backends, order, PAID, by=BY_PAYMENT_PROVIDER)
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert "by the payment provider" in body


# --- each state in words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "by", "words"),
    [
        (PAID, None, "Your payment has arrived. We are preparing your order"),
        (EXPIRED, BY_SYSTEM, "This order expired: it was not paid in time"),
    ],
)
async def test_each_state_is_explained(app, backends, seeded, status, by, words):
    client, order = await new_order(app, backends)
    if by is None:
        await change_status(backends, order, status, by="admin", by_user_id="USR-ADMIN")
    else:
        await change_status(backends, order, status, by=by, reason="not paid in time")
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert words in body
    assert "Cancel order" not in body and "How to pay" not in body


async def test_an_order_cancelled_by_the_shop_says_who_cancelled_it(app, backends, seeded):
    client, order = await new_order(app, backends)
    admin = await new_admin(backends)
    await admin_set_status(backends, admin.user_id, order.order_id, "cancelled")
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert "The order was cancelled by the shop. Nothing is owed" in body


async def test_a_payment_under_review_is_explained(app, backends, seeded):
    client, order = await new_order(app, backends, needs_review=True)
    await change_status(backends, order, "cancelled", by=BY_SYSTEM)
    body = panel(await text(await client.get(f"/orders/{order.order_id}")))
    assert "Payment being checked" in body
    assert "We received a payment notice for this order after it was cancelled" in body


# --- cancelling -------------------------------------------------------------------------------


async def test_the_cancel_button_asks_for_confirmation_and_works_without_javascript(
    app, backends, seeded
):
    client, order = await new_order(app, backends)
    body = await text(await client.get(f"/orders/{order.order_id}"))
    form = re.search(r'<form class="cancel-form".*?</form>', body, re.S).group(0)
    assert f'method="get" action="/orders/{order.order_id}/cancel"' in form
    assert f'hx-post="/orders/{order.order_id}/cancel"' in form
    assert f'hx-confirm="Cancel order {order.order_id}?' in form


async def test_cancel_with_htmx_answers_the_updated_panel_focused_on_the_outcome(
    app, backends, seeded
):
    client, order = await new_order(app, backends)
    before = await stock(backends)
    token = await csrf_token(client)
    response = await client.post(
        f"/orders/{order.order_id}/cancel",
        headers=htmx(token, current=f"/orders/{order.order_id}"),
    )
    body = await text(response)
    assert response.status_code == 200 and is_fragment(body)
    assert body.lstrip().startswith('<section id="order-panel"')
    assert 'role="status" tabindex="-1" autofocus' in body
    assert "Your order is cancelled." in body
    shown = panel(body)
    assert "You cancelled this order." in shown
    cancelled_by = r"Cancelled</span> <time[^>]*>[^<]+</time> <span class=\"muted\">by you"
    assert re.search(cancelled_by, shown)
    assert "Cancel order" not in shown
    assert await stock(backends) == before + 2


async def test_cancel_without_javascript_confirms_first_then_shows_the_outcome(
    app, backends, seeded
):
    client, order = await new_order(app, backends)
    before = await stock(backends)
    confirm = await text(await client.get(f"/orders/{order.order_id}/cancel"))
    assert "Cancel order" in confirm and "Yes, cancel this order" in confirm
    assert f'href="/orders/{order.order_id}">Keep my order' in confirm
    assert await stock(backends) == before  # asking is not cancelling
    token = await csrf_token(client)
    response = await client.post(f"/orders/{order.order_id}/cancel", form={CSRF_FIELD: token})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == f"/orders/{order.order_id}?done=cancelled"
    body = panel(await text(await client.get(location)))
    assert "Your order is cancelled." in body and "autofocus" in body
    assert await stock(backends) == before + 2


async def test_a_second_cancel_is_explained_and_restores_stock_once(app, backends, seeded):
    client, order = await new_order(app, backends)
    before = await stock(backends)
    token = await csrf_token(client)
    headers = htmx(token, current=f"/orders/{order.order_id}")
    await client.post(f"/orders/{order.order_id}/cancel", headers=headers)
    again = await client.post(f"/orders/{order.order_id}/cancel", headers=headers)
    assert again.status_code == 409
    assert "This order was already cancelled." in await text(again)
    plain = await client.post(f"/orders/{order.order_id}/cancel", form={CSRF_FIELD: token})
    assert plain.headers["Location"].endswith("?done=not_cancellable")
    assert await stock(backends) == before + 2


async def test_a_paid_order_cannot_be_cancelled_and_the_page_says_why(app, backends, seeded):
    client, order = await new_order(app, backends)
    await change_status(backends, order, PAID, by="admin", by_user_id="USR-ADMIN")
    token = await csrf_token(client)
    response = await client.post(
        f"/orders/{order.order_id}/cancel",
        headers=htmx(token, current=f"/orders/{order.order_id}"),
    )
    assert response.status_code == 409
    assert "This order is paid now, so it can no longer be cancelled." in await text(response)
    confirm = await client.get(f"/orders/{order.order_id}/cancel")
    assert confirm.headers["Location"].startswith(f"/orders/{order.order_id}?done=not_cancellable")


async def test_nobody_cancels_another_shoppers_order(app, backends, seeded):
    _, order = await new_order(app, backends)
    stranger, _ = await shopper(app)
    token = await csrf_token(stranger)
    response = await stranger.post(
        f"/orders/{order.order_id}/cancel", headers=htmx(token, current="/orders")
    )
    assert response.status_code == 404
    assert (await find_any(backends, order.order_id)).status == "pending"


async def test_cancelling_needs_the_csrf_token(app, backends, seeded):
    client, order = await new_order(app, backends)
    response = await client.post(f"/orders/{order.order_id}/cancel", form={})
    assert response.status_code == 403
    assert (await find_any(backends, order.order_id)).status == "pending"


# --- the order list ---------------------------------------------------------------------------


async def test_the_order_list_says_what_each_order_waits_for(app, backends, seeded):
    client, token = await shopper(app)
    ids = [(await place(client, token, LAMBDA, 1))["order_id"] for _ in range(4)]
    pending = await give_payment(backends, ids[0], expires_in=timedelta(hours=5, minutes=3))
    paid = await give_payment(backends, ids[1])
    await change_status(backends, paid, PAID, by="admin", by_user_id="USR-ADMIN")
    expired = await give_payment(backends, ids[2], expires_in=timedelta(minutes=-1))
    await change_status(backends, expired, EXPIRED, by=BY_SYSTEM)
    shipped = await give_payment(backends, ids[3])
    shipped = await change_status(backends, shipped, PAID, by="admin", by_user_id="USR-ADMIN")
    await change_status(backends, shipped, SHIPPED, by="admin", by_user_id="USR-ADMIN")
    body = await text(await client.get("/orders"))
    rows = {
        order_id: re.sub(r"\s+", " ", row)
        for order_id, row in re.findall(
            r'<span class="order-id">(ORD-[^<]+)</span>(.*?)</li>', body, re.S
        )
    }
    assert re.search(r"Awaiting payment — 5 h [23] min left", rows[pending.order_id])
    assert "Paid — being prepared" in rows[paid.order_id]
    assert "Expired — not paid in time" in rows[expired.order_id]
    assert "Shipped" in rows[shipped.order_id]


async def test_an_outcome_in_the_address_never_contradicts_the_order(app, backends, seeded):
    client, order = await new_order(app, backends)
    body = panel(await text(await client.get(f"/orders/{order.order_id}?done=cancelled")))
    assert "Your order is cancelled." not in body and "Cancel order" in body


async def test_an_order_placed_before_payments_still_shows_its_status_and_can_be_cancelled(
    app, backends, seeded
):
    client, token = await shopper(app)
    data = await place(client, token, LAMBDA, 1)
    await strip_payment(backends, data["order_id"])
    body = panel(await text(await client.get(f"/orders/{data['order_id']}")))
    assert "We are waiting for your payment." in body
    assert "How to pay" not in body and " left</strong>" not in body
    assert "Cancel order" in body and "Order placed" in body
