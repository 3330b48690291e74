"""The admin's side of payments: the order page shows the payment (provider, status, amount,
reference, when paid, events, a needs-review warning); an admin confirms a bank transfer on
a pending order (htmx and no-JS; errors and refusals on the form); the dashboard counts the
orders awaiting payment and those expiring within a day (a Query, never a Scan)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cloudstore.domain.orders import BY_SYSTEM, CANCELLED, EXPIRED, PAID
from cloudstore.domain.payments import MIDTRANS, PaymentEvent
from cloudstore.domain.shop_time import shop_clock
from cloudstore.shop.orders import change_status, find_any
from cloudstore.web.html.csrf import CSRF_FIELD
from tests.helpers import place_order as place
from tests.helpers import register
from tests.helpers.pages import as_admin, csrf_token, htmx, is_fragment, text
from tests.helpers.payments import give_payment
from tests.helpers.shared_app import app, settings  # noqa: F401 - module fixtures

REFERENCE = "BCA 30/11 #8812"


async def customer_order(app, backends, **payment):
    client = app.test_client()
    token = await register(client)
    client.set_cookie("localhost", "cs_session", token)
    data = await place(client, token, quantity=1)
    return client, await give_payment(backends, data["order_id"], **payment)


@pytest.fixture
async def admin(app, backends):
    client = app.test_client()
    token = await as_admin(client, backends)
    return client, token


def payment_panel(body: str) -> str:
    match = re.search(r'<section id="payment-panel".*?</section>', body, re.S)
    assert match, "no payment panel"
    return re.sub(r"\s+", " ", match.group(0))


async def confirm(admin, order_id: str, reference: str, *, with_htmx: bool = True):
    client, token = admin
    if with_htmx:
        return await client.post(
            f"/admin/orders/{order_id}/payment",
            form={"reference": reference},
            headers=htmx(token, current=f"/admin/orders/{order_id}"),
        )
    return await client.post(
        f"/admin/orders/{order_id}/payment", form={"reference": reference, CSRF_FIELD: token}
    )


# --- the payment on the order page ------------------------------------------------------------


async def test_the_order_page_shows_the_payment(app, backends, seeded, admin):
    events = (PaymentEvent("2026-11-30T08:00:00.000Z", "payment_provider", "pending", "first"),)
    _, order = await customer_order(app, backends, events=events)
    body = payment_panel(await text(await admin[0].get(f"/admin/orders/{order.order_id}")))
    assert "<dt>Provider</dt><dd>Bank transfer</dd>" in body
    assert "Awaiting payment" in body
    assert f"<dt>Amount</dt><dd>Rp {int(order.total_amount):,}".replace(",", ".") in body
    assert f"<dt>Pay by</dt><dd>{shop_clock().when(order.payment.expires_at)}</dd>" in body
    assert "none yet" in body and "not yet" in body
    assert "30 Nov 2026, 15:00 WIB" in body and "payment provider" in body and "first" in body
    assert "Needs review" not in body
    assert 'id="confirm-payment"' in body and 'name="reference"' in body
    assert 'maxlength="100"' in body and f'name="{CSRF_FIELD}"' in body


async def test_a_payment_that_needs_review_carries_a_warning(app, backends, seeded, admin):
    _, order = await customer_order(app, backends, needs_review=True)
    await change_status(backends, order, EXPIRED, by=BY_SYSTEM)
    body = payment_panel(await text(await admin[0].get(f"/admin/orders/{order.order_id}")))
    assert 'role="alert"' in body and "Needs review." in body
    assert "after it was expired" in body
    assert 'id="confirm-payment"' not in body


async def test_a_midtrans_order_offers_no_manual_confirmation(app, backends, seeded, admin):
    _, order = await customer_order(
        app, backends, provider=MIDTRANS, redirect_url="https://x.test/p"
    )
    body = payment_panel(await text(await admin[0].get(f"/admin/orders/{order.order_id}")))
    assert "<dt>Provider</dt><dd>Midtrans</dd>" in body
    assert 'id="confirm-payment"' not in body


# --- confirming a bank transfer ---------------------------------------------------------------


async def test_confirming_with_htmx_answers_the_paid_order_with_the_outcome_focused(
    app, backends, seeded, admin
):
    shopper, order = await customer_order(app, backends)
    response = await confirm(admin, order.order_id, REFERENCE)
    body = await text(response)
    assert response.status_code == 200 and is_fragment(body)
    assert body.lstrip().startswith('<div id="admin-order">')
    panel = payment_panel(body)
    assert "Payment confirmed: order" in panel and "autofocus" in panel
    assert 'id="confirm-payment"' not in panel
    assert '<span class="status status-paid">Paid</span>' in body
    stored = await find_any(backends, order.order_id)
    assert stored.status == PAID
    assert stored.status_history[-1].by == "admin"
    shopper_page = await text(await shopper.get(f"/orders/{order.order_id}"))
    paid_by = r"Paid</span>\s*<time[^>]*>[^<]+</time>\s*<span class=\"muted\">by the shop"
    assert re.search(paid_by, shopper_page)


async def test_confirming_without_javascript_goes_back_to_the_order_with_a_notice(
    app, backends, seeded, admin
):
    _, order = await customer_order(app, backends)
    response = await confirm(admin, order.order_id, REFERENCE, with_htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/orders/{order.order_id}"
    body = await text(await admin[0].get(response.headers["Location"]))
    assert "Payment confirmed: order" in body
    assert (await find_any(backends, order.order_id)).status == PAID


@pytest.mark.parametrize(
    ("reference", "error"),
    [
        ("   ", "Enter the transfer&#39;s reference"),
        ("x" * 101, "The reference is at most 100 characters."),
        ("abc\x07def", "The reference may only hold printable characters."),
    ],
)
async def test_a_bad_reference_is_refused_on_the_form(
    app, backends, seeded, admin, reference, error
):
    _, order = await customer_order(app, backends)
    response = await confirm(admin, order.order_id, reference)
    assert response.status_code == 422
    body = await text(response)
    assert error in body
    assert 'aria-invalid="true"' in body and 'id="cp-e-reference"' in body
    assert (await find_any(backends, order.order_id)).status == "pending"
    plain = await confirm(admin, order.order_id, reference, with_htmx=False)
    assert plain.status_code == 422 and "<html" in await text(plain)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (PAID, "This order is already paid: there is nothing to confirm."),
        (CANCELLED, "This order was cancelled, so its payment cannot be confirmed."),
        (EXPIRED, "This order expired before its payment was confirmed."),
    ],
)
async def test_confirming_an_order_that_is_no_longer_pending_is_refused(
    app, backends, seeded, admin, status, words
):
    _, order = await customer_order(app, backends)
    await change_status(backends, order, status, by=BY_SYSTEM)
    response = await confirm(admin, order.order_id, REFERENCE)
    assert response.status_code == 409
    body = await text(response)
    assert words in body and 'role="alert"' in body
    assert (await find_any(backends, order.order_id)).status == status


async def test_confirming_a_midtrans_payment_by_hand_is_refused(app, backends, seeded, admin):
    _, order = await customer_order(app, backends, provider=MIDTRANS)
    response = await confirm(admin, order.order_id, REFERENCE)
    assert response.status_code == 409
    assert "paid through Midtrans, which confirms the payment itself" in await text(response)
    assert (await find_any(backends, order.order_id)).status == "pending"


async def test_confirming_needs_the_csrf_token(app, backends, seeded, admin):
    _, order = await customer_order(app, backends)
    response = await admin[0].post(
        f"/admin/orders/{order.order_id}/payment", form={"reference": REFERENCE}
    )
    assert response.status_code == 403
    assert (await find_any(backends, order.order_id)).status == "pending"


async def test_a_customer_cannot_confirm_a_payment(app, backends, seeded):
    shopper, order = await customer_order(app, backends)
    token = await csrf_token(shopper)
    response = await shopper.post(
        f"/admin/orders/{order.order_id}/payment",
        form={"reference": REFERENCE, CSRF_FIELD: token},
    )
    assert response.status_code == 403
    assert (await find_any(backends, order.order_id)).status == "pending"


# --- the dashboard ----------------------------------------------------------------------------


def dashboard_counts(body: str) -> tuple[int, int]:
    count = int(re.search(r'id="awaiting-payment-count">(\d+)<', body).group(1))
    soon = int(re.search(r'id="expiring-soon">(\d+) expire', body).group(1))
    return count, soon


async def test_the_dashboard_counts_orders_awaiting_payment_and_those_expiring_soon(
    app, backends, seeded, admin
):
    client = admin[0]
    before = dashboard_counts(await text(await client.get("/admin")))
    await customer_order(app, backends, expires_in=timedelta(hours=5))
    await customer_order(app, backends, expires_in=timedelta(days=3))
    await customer_order(app, backends, expires_in=timedelta(minutes=-3))
    _, paid = await customer_order(app, backends, expires_in=timedelta(hours=1))
    await change_status(backends, paid, PAID, by=BY_SYSTEM)

    calls = []
    backends.dynamo.client.meta.events.register(
        "before-call.dynamodb", lambda event_name, **_: calls.append(event_name.split(".")[-1])
    )
    body = await text(await client.get("/admin"))
    assert "Scan" not in calls and "Query" in calls
    count, soon = dashboard_counts(body)
    assert (count - before[0], soon - before[1]) == (3, 2)
    assert 'href="/admin/orders?status=pending"' in body
