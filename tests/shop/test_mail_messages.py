"""What the shop mails and when: welcome on registering, order placed at checkout, and a
message for each status an order reaches (paid, shipped, cancelled, expired). Each message
has a plain-text and an HTML part in the shop's style, and no name can add a header."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cloudstore.domain.accounts import User
from cloudstore.domain.orders import Order, OrderLine, ShippingAddress, StatusChange
from cloudstore.domain.payments import BANK_TRANSFER, BankAccount, Payment
from cloudstore.shop import mail
from cloudstore.stores.mail import html_body, links_in, read_message, text_body, wire_bytes
from tests.helpers import ADDRESS, bearer, make_settings, place_order, register, unique_email
from tests.helpers.mail import sent_mail

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SETTINGS = make_settings(
    "postgresql://unused",
    "http://unused",
    Path("/nonexistent"),
    public_url="https://shop.example.com",
    mail_from="Toko Cloud <toko@example.com>",
)


def user(name: str = "Budi Santoso", email: str = "budi@example.com") -> User:
    return User(
        user_id="USR-1",
        email=email,
        password_hash="x",
        name=name,
        role="customer",
        phone=None,
        address=None,
        city=None,
        state=None,
        postal_code=None,
        password_changed_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        email_key=email.lower(),
    )


def order(status: str = "pending") -> Order:
    line = OrderLine(
        product_id="PROD-LAMBDA-10M",
        name="Lambda <10M> requests",
        category="compute",
        image_url="/static/img/products/lambda.svg",
        price=Decimal(15000),
        quantity=2,
        line_total=Decimal(30000),
    )
    return Order(
        user_id="USR-1",
        order_id="ORD-01TESTORDER",
        items=(line,),
        subtotal=Decimal(30000),
        tax=Decimal(3300),
        tax_rate=Decimal("0.11"),
        total_amount=Decimal(33300),
        currency="IDR",
        shipping_address=ShippingAddress.from_mapping(ADDRESS),
        status=status,
        status_history=(StatusChange(status, "2026-01-02T03:04:05Z", "USR-1"),),
        created_at="2026-01-02T03:04:05Z",
        updated_at="2026-01-02T03:04:05Z",
    )


def round_trip(message):
    """The message as a mail client reads it off the wire."""
    return read_message(wire_bytes(message))


ALL_MESSAGES = {
    "welcome": lambda: mail.welcome_message(SETTINGS, user()),
    "password reset": lambda: mail.password_reset_message(
        SETTINGS, user(), "https://shop.example.com/reset-password?token=abc"
    ),
    **{
        f"order {status}": (lambda s=status: mail.ORDER_MESSAGES[s](SETTINGS, order(s), user()))
        for status in ("pending", "paid", "shipped", "cancelled", "expired")
    },
}


@pytest.mark.parametrize("make", ALL_MESSAGES.values(), ids=ALL_MESSAGES.keys())
def test_every_message_has_a_text_and_an_html_part_in_the_shops_style(make):
    message = round_trip(make())
    assert message.get_content_type() == "multipart/alternative"
    assert "Cloud Store" in text_body(message)
    html = html_body(message)
    assert "Cloud Store" in html and "#4f46e5" in html  # the shop's brand colour
    assert "<img" not in html and not re.search(r"url\(|src=", html)  # no images at all
    assert message["From"].addresses[0].addr_spec == "toko@example.com"
    assert message["From"].addresses[0].display_name == "Toko Cloud"
    assert message["To"].addresses[0].addr_spec == "budi@example.com"
    assert message["Date"] and message["Message-ID"]


@pytest.mark.parametrize("make", ALL_MESSAGES.values(), ids=ALL_MESSAGES.keys())
def test_links_point_at_public_url(make):
    links = links_in(round_trip(make()))
    assert links and all(link.startswith("https://shop.example.com/") for link in links)


def test_the_order_placed_mail_gives_the_total_and_where_to_pay():
    message = round_trip(mail.order_placed_message(SETTINGS, order(), user()))
    text = text_body(message)
    assert "Rp 33.300" in text and "ORD-01TESTORDER" in text
    assert "Payment instructions are on your order page" in text
    assert "https://shop.example.com/orders/ORD-01TESTORDER" in links_in(message)
    assert "Rp 33.300" in str(message["Subject"])


def test_the_order_placed_mail_says_how_to_pay_a_bank_transfer_and_by_when():
    account = BankAccount("BCA", "1234567890", "PT Cloud Store")
    placed = replace(
        order(),
        expires_at="2026-12-01T07:05:00.000Z",
        payment=Payment(
            BANK_TRANSFER, Decimal(33300), "2026-12-01T07:05:00.000Z", accounts=(account,)
        ),
    )
    message = round_trip(mail.order_placed_message(SETTINGS, placed, user()))
    for body in (text_body(message), html_body(message)):
        assert "BCA" in body and "1234567890" in body and "PT Cloud Store" in body
        assert "ORD-01TESTORDER" in body and "Rp 33.300" in body
        assert "1 Dec 2026, 14:05 WIB" in body


def test_product_names_are_escaped_in_html():
    html = html_body(round_trip(mail.order_placed_message(SETTINGS, order(), user())))
    assert "Lambda &lt;10M&gt; requests" in html


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("paid", "Payment received"),
        ("shipped", "has shipped"),
        ("cancelled", "cancelled"),
        ("expired", "expired"),
    ],
)
def test_each_status_mail_says_what_happened(status, words):
    message = round_trip(mail.ORDER_MESSAGES[status](SETTINGS, order(status), user()))
    assert words in str(message["Subject"]) and "ORD-01TESTORDER" in text_body(message)


def test_a_name_with_line_breaks_cannot_add_a_header():
    evil = user(name="Budi\r\nBcc: victim@example.net\r\nX-Evil: 1")
    raw = wire_bytes(mail.welcome_message(SETTINGS, evil))
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nX-Evil:" not in headers
    message = read_message(raw)
    assert len(message.get_all("To")) == 1
    assert [a.addr_spec for a in message["To"].addresses] == ["budi@example.com"]


def test_a_name_with_commas_and_quotes_stays_one_address():
    message = round_trip(mail.welcome_message(SETTINGS, user(name='Budi, "the boss" <x@y.z>')))
    (address,) = message["To"].addresses
    assert address.addr_spec == "budi@example.com"
    assert address.display_name == 'Budi, "the boss" <x@y.z>'


def test_a_non_ascii_name_and_address_travel_intact():
    message = round_trip(
        mail.welcome_message(SETTINGS, user(name="Dévi Ñ", email="dévi@contoh.id"))
    )
    (address,) = message["To"].addresses
    assert (address.display_name, address.addr_spec) == ("Dévi Ñ", "dévi@contoh.id")


def test_the_reset_mail_says_the_link_works_once_within_an_hour():
    text = text_body(
        round_trip(mail.password_reset_message(SETTINGS, user(), "https://shop.example.com/r?t=1"))
    )
    assert "within 1 hour" in text and "works once" in text


# --- When: the hooks, through the app (outbox) ----------------------------------------------


async def subjects(app, email: str) -> list[str]:
    return [str(m["Subject"]) for m in await sent_mail(app, to=email)]


async def customer(client) -> tuple[str, str]:
    email = unique_email()
    return await register(client, name="Sari", email=email), email


async def test_registering_mails_a_welcome(app, client):
    _, email = await customer(client)
    assert await subjects(app, email) == ["Welcome to Cloud Store"]


async def test_placing_an_order_mails_it_once(app, client, seeded):
    token, email = await customer(client)
    placed = await place_order(client, token)
    titles = await subjects(app, email)
    total = f"Rp {int(placed['total_amount']):,}".replace(",", ".")
    assert titles[1:] == [f"Order {placed['order_id']} placed: {total} to pay"]


async def test_a_replayed_checkout_mails_nothing_more(app, client, seeded):
    token, email = await customer(client)
    body = {
        "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
        "shipping_address": dict(ADDRESS),
    }
    headers = {**bearer(token), "Idempotency-Key": "mail-once-1"}
    for _ in range(2):
        assert (await client.post("/api/orders", json=body, headers=headers)).status_code == 201
    assert len(await subjects(app, email)) == 2  # welcome + one order


async def test_each_status_change_mails_the_customer(app, client, seeded, admin_token):
    token, email = await customer(client)
    placed = await place_order(client, token)
    for status in ("paid", "shipped", "delivered"):
        response = await client.post(
            f"/api/admin/orders/{placed['order_id']}/status",
            json={"status": status, **({"reference": "TRF-1"} if status == "paid" else {})},
            headers=bearer(admin_token),
        )
        assert response.status_code == 200
    titles = await subjects(app, email)
    order_id = placed["order_id"]
    assert titles[2:] == [f"Payment received for order {order_id}", f"Order {order_id} has shipped"]


async def test_a_customer_cancelling_gets_the_cancelled_mail(app, client, seeded):
    token, email = await customer(client)
    placed = await place_order(client, token)
    await client.post(f"/api/orders/{placed['order_id']}/cancel", headers=bearer(token))
    assert (await subjects(app, email))[-1] == f"Order {placed['order_id']} is cancelled"


async def test_order_mail_without_public_url_links_the_local_shop(postgres_url, dynamodb, tmp_path):
    settings = make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data")
    message = mail.welcome_message(settings, user())
    assert links_in(round_trip(message))[0].startswith("http://localhost:5000/")
