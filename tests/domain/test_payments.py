from decimal import Decimal

import pytest

from cloudstore.domain.orders import StatusChange
from cloudstore.domain.payments import (
    AWAITING_PAYMENT,
    BANK_TRANSFER,
    NEEDS_REVIEW,
    PAID,
    BankAccount,
    Payment,
    parse_bank_accounts,
)


def test_bank_accounts_are_read_from_the_setting():
    assert parse_bank_accounts("BCA 1234567890 a.n. PT Cloud Store; Bank Mandiri 0987 a.n. CS") == (
        BankAccount("BCA", "1234567890", "PT Cloud Store"),
        BankAccount("Bank Mandiri", "0987", "CS"),
    )


def test_a_malformed_bank_account_is_refused():
    with pytest.raises(ValueError):
        parse_bank_accounts("BCA 1234567890")


def test_a_payment_status_follows_the_order_status():
    payment = Payment(BANK_TRANSFER, Decimal(1000), "2026-01-01T00:00:00Z")
    assert payment.as_dict("ORD-1", "pending")["status"] == AWAITING_PAYMENT
    assert payment.as_dict("ORD-1", "shipped")["status"] == PAID


def test_a_payment_flagged_for_review_says_so_whatever_the_order_status():
    payment = Payment(BANK_TRANSFER, Decimal(1000), "2026-01-01T00:00:00Z", needs_review=True)
    assert payment.as_dict("ORD-1", "paid")["status"] == NEEDS_REVIEW


def test_bank_transfer_instructions_carry_the_amount_and_the_order_id_as_reference():
    account = BankAccount("BCA", "1234567890", "PT Cloud Store")
    payment = Payment(BANK_TRANSFER, Decimal(5000), "2026-01-01T00:00:00Z", accounts=(account,))
    assert payment.as_dict("ORD-9", "pending")["instructions"] == [
        {
            "bank": "BCA",
            "account_number": "1234567890",
            "account_name": "PT Cloud Store",
            "amount": Decimal(5000),
            "reference": "ORD-9",
        }
    ]


def test_a_stored_payment_reads_back_equal():
    payment = Payment(
        BANK_TRANSFER,
        Decimal(5000),
        "2026-01-01T00:00:00Z",
        accounts=(BankAccount("BCA", "1", "X"),),
        reference="TRF-1",
    )
    assert Payment.from_stored(payment.stored()) == payment


def test_a_history_entry_from_before_actors_names_the_customer_by_their_id():
    entry = StatusChange.from_stored({"status": "pending", "at": "t", "by": "USR-1"}, "USR-1")
    assert (entry.by, entry.by_user_id) == ("customer", "USR-1")


def test_a_history_entry_from_before_actors_by_someone_else_was_an_admin():
    entry = StatusChange.from_stored({"status": "paid", "at": "t", "by": "USR-9"}, "USR-1")
    assert (entry.by, entry.by_user_id) == ("admin", "USR-9")
