"""Payment rules: the transfer reference, the payment window, Midtrans notifications
(signature, outcome, what needs review) and the checkout's payment snapshot."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cloudstore.domain.cart import CartLine
from cloudstore.domain.catalog import Product
from cloudstore.domain.checkout import plan_checkout
from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.payments import (
    BANK_TRANSFER,
    MIDTRANS,
    BankAccount,
    Notification,
    contradicts,
    notification_signature,
    transfer_reference,
    window_end,
    window_passed,
)

KEY = "SB-Mid-server-key"
ADDRESS = {
    "name": "Budi",
    "phone": "+62 812 3456 7890",
    "address": "Jl. Sudirman 1",
    "city": "Jakarta",
    "postal_code": "10220",
}


def notification(status="settlement", fraud=None, signature=None, **fields) -> Notification:
    values = {
        "order_id": "ORD-1",
        "status_code": "200",
        "gross_amount": "11100.00",
        "transaction_status": status,
        "transaction_id": "tx-1",
        **fields,
    }
    if fraud:
        values["fraud_status"] = fraud
    values["signature_key"] = signature or notification_signature(
        values["order_id"], values["status_code"], values["gross_amount"], KEY
    )
    return Notification.from_mapping(values)


def test_the_signature_is_sha512_of_order_status_amount_and_server_key():
    expected = hashlib.sha512(b"ORD-1200" + b"11100.00" + KEY.encode()).hexdigest()
    assert notification_signature("ORD-1", "200", "11100.00", KEY) == expected


def test_a_notification_signed_with_the_server_key_is_believed():
    assert notification().signed_by(KEY)


def test_a_notification_signed_with_another_key_is_not():
    assert not notification().signed_by("another-key")


def test_a_notification_whose_amount_was_edited_is_not_believed():
    signed = notification_signature("ORD-1", "200", "11100.00", KEY)
    assert not notification(gross_amount="1.00", signature=signed).signed_by(KEY)


def test_a_notification_without_an_order_id_is_refused():
    with pytest.raises(InvalidInput):
        Notification.from_mapping({"status_code": "200"})


@pytest.mark.parametrize(
    ("status", "fraud", "outcome"),
    [
        ("settlement", None, "paid"),
        ("capture", "accept", "paid"),
        ("capture", "challenge", None),
        ("pending", None, None),
        ("expire", None, "expired"),
        ("cancel", None, "cancelled"),
        ("deny", None, "cancelled"),
        ("refund", None, None),
    ],
)
def test_a_notification_asks_for_the_documented_outcome(status, fraud, outcome):
    assert notification(status, fraud).outcome() == outcome


@pytest.mark.parametrize(
    ("outcome", "order_status", "review"),
    [
        ("paid", "paid", False),
        ("paid", "shipped", False),
        ("paid", "expired", True),
        ("paid", "cancelled", True),
        ("cancelled", "paid", True),
        ("expired", "expired", False),
        ("cancelled", "expired", False),
    ],
)
def test_only_a_notification_that_contradicts_the_order_needs_review(outcome, order_status, review):
    assert contradicts(outcome, order_status) == review


def test_a_transfer_reference_is_kept_without_surrounding_spaces():
    assert transfer_reference("  TRF 123/ABC ", required=True) == "TRF 123/ABC"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_a_bank_transfer_needs_a_reference(text):
    with pytest.raises(InvalidInput) as raised:
        transfer_reference(text, required=True)
    assert (raised.value.code, raised.value.field) == (ErrorCode.REQUIRED, "reference")


@pytest.mark.parametrize("text", ["x" * 101, "TRF\x00", "TRF\n2", "TRF\u200b"])
def test_an_overlong_or_unprintable_reference_is_refused(text):
    with pytest.raises(InvalidInput) as raised:
        transfer_reference(text, required=False)
    assert raised.value.code in (ErrorCode.TOO_LONG, ErrorCode.CONTROL_CHARACTERS)


def test_a_reference_of_one_hundred_characters_is_fine():
    assert transfer_reference("x" * 100, required=True) == "x" * 100


def test_the_window_ends_its_length_after_the_order_was_placed():
    assert window_end("2026-01-01T00:00:00.000Z", 86400) == "2026-01-02T00:00:00.000Z"


def test_a_window_has_passed_at_its_end_and_not_before():
    end = "2026-01-02T00:00:00.000Z"
    assert not window_passed(end, datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC))
    assert window_passed(end, datetime(2026, 1, 2, tzinfo=UTC))


def test_an_order_placed_before_payments_never_expires():
    assert not window_passed(None, datetime(2100, 1, 1, tzinfo=UTC))


def plan(**payment):
    product = Product(
        product_id="A",
        name="A",
        description="",
        price=Decimal(10000),
        category="compute",
        stock=5,
        image_url="",
        created_at="2026-01-01T00:00:00.000Z",
    )
    return plan_checkout(
        user_id="USR-1",
        lines=[CartLine("A", 1)],
        products={"A": product},
        shipping_address=ADDRESS,
        tax_rate=Decimal("0.11"),
        **payment,
    )


def test_a_placed_order_expires_when_its_window_ends():
    placed = plan(payment_window=3600).order("IDR")
    assert placed.expires_at == window_end(placed.created_at, 3600)
    assert placed.payment.expires_at == placed.expires_at


def test_a_bank_transfer_order_keeps_the_accounts_and_asks_the_exact_total():
    account = BankAccount("BCA", "1234567890", "PT Cloud Store")
    placed = plan(payment_provider=BANK_TRANSFER, bank_accounts=[account]).order("IDR")
    payment = placed.as_dict()["payment"]
    assert payment["status"] == "awaiting_payment"
    assert payment["amount"] == placed.total_amount == Decimal(11100)
    assert payment["instructions"][0]["reference"] == placed.order_id


def test_a_midtrans_order_has_no_payment_page_until_midtrans_gives_one():
    placed = plan(payment_provider=MIDTRANS, bank_accounts=[BankAccount("B", "1", "N")])
    payment = placed.order("IDR").as_dict()["payment"]
    assert payment["redirect_url"] is None
    assert "instructions" not in payment
