"""Payments: how an order is paid, as the order carries it.

An order placed with a payment window holds a `Payment`: which provider takes the money
(`bank_transfer`, `midtrans`), the amount asked for, when the window closes, and what the
provider told us (`events`). The payment's status is not stored on its own: it follows the
order's status (`payment_status`), except that a payment flagged `needs_review` (a
notification that came for an order no longer pending) says so until an admin looks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

BANK_TRANSFER, MIDTRANS = "bank_transfer", "midtrans"
PROVIDERS = (BANK_TRANSFER, MIDTRANS)

AWAITING_PAYMENT, PAID, EXPIRED, CANCELLED, NEEDS_REVIEW = (
    "awaiting_payment",
    "paid",
    "expired",
    "cancelled",
    "needs_review",
)
PAYMENT_STATUSES = (AWAITING_PAYMENT, PAID, EXPIRED, CANCELLED, NEEDS_REVIEW)

# The payment status an order's status implies (shipped and delivered orders were paid).
_BY_ORDER_STATUS = {
    "pending": AWAITING_PAYMENT,
    "paid": PAID,
    "shipped": PAID,
    "delivered": PAID,
    "expired": EXPIRED,
    "cancelled": CANCELLED,
}


@dataclass(frozen=True, slots=True)
class BankAccount:
    """One account a shopper may transfer to (from `BANK_TRANSFER_ACCOUNTS`)."""

    bank: str
    account_number: str
    account_name: str

    def as_dict(self) -> dict[str, object]:
        return {
            "bank": self.bank,
            "account_number": self.account_number,
            "account_name": self.account_name,
        }

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> BankAccount:
        return cls(
            bank=str(values.get("bank", "")),
            account_number=str(values.get("account_number", "")),
            account_name=str(values.get("account_name", "")),
        )


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """Something a provider (or an admin) told us about the payment, kept as it came:
    when, from whom (`payment_provider`, `admin`), the provider's status word, and a note
    (why it was not applied, when it was not)."""

    at: str
    source: str
    status: str
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {"at": self.at, "source": self.source, "status": self.status}
        if self.note is not None:
            values["note"] = self.note
        return values

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PaymentEvent:
        note = values.get("note")
        return cls(
            at=str(values.get("at", "")),
            source=str(values.get("source", "")),
            status=str(values.get("status", "")),
            note=None if note is None else str(note),
        )


@dataclass(frozen=True, slots=True)
class Payment:
    """How an order is paid. `accounts` are the bank accounts shown when the order was
    placed (a snapshot, like the lines' prices); `redirect_url` is the provider's payment
    page (Midtrans Snap), absent until the provider has been reached; `reference` is the
    payment's proof once paid (an admin's transfer reference, the provider's transaction
    id); `paid_at` when it was confirmed."""

    provider: str
    amount: Decimal
    expires_at: str
    accounts: tuple[BankAccount, ...] = ()
    redirect_url: str | None = None
    reference: str | None = None
    paid_at: str | None = None
    needs_review: bool = False
    events: tuple[PaymentEvent, ...] = ()

    def stored(self) -> dict[str, object]:
        """The payment as the order item stores it."""
        values: dict[str, object] = {
            "provider": self.provider,
            "amount": self.amount,
            "expires_at": self.expires_at,
            "accounts": [account.as_dict() for account in self.accounts],
            "needs_review": self.needs_review,
            "events": [event.as_dict() for event in self.events],
        }
        for name in ("redirect_url", "reference", "paid_at"):
            value = getattr(self, name)
            if value is not None:
                values[name] = value
        return values

    @classmethod
    def from_stored(cls, values: Mapping[str, Any]) -> Payment:
        def optional(name: str) -> str | None:
            value = values.get(name)
            return None if value is None else str(value)

        return cls(
            provider=str(values.get("provider", BANK_TRANSFER)),
            amount=Decimal(str(values.get("amount", 0))),
            expires_at=str(values.get("expires_at", "")),
            accounts=tuple(BankAccount.from_mapping(a) for a in values.get("accounts", [])),
            redirect_url=optional("redirect_url"),
            reference=optional("reference"),
            paid_at=optional("paid_at"),
            needs_review=bool(values.get("needs_review", False)),
            events=tuple(PaymentEvent.from_mapping(e) for e in values.get("events", [])),
        )

    def as_dict(self, order_id: str, order_status: str) -> dict[str, object]:
        """The payment in the API's JSON: `{provider, status, amount, expires_at,
        instructions | redirect_url, reference?, paid_at?, events?}`. Bank-transfer
        `instructions` list each account with the exact amount and the transfer reference
        (the order id)."""
        values: dict[str, object] = {
            "provider": self.provider,
            "status": payment_status(self, order_status),
            "amount": self.amount,
            "expires_at": self.expires_at,
        }
        if self.provider == BANK_TRANSFER:
            values["instructions"] = [
                {**account.as_dict(), "amount": self.amount, "reference": order_id}
                for account in self.accounts
            ]
        else:
            values["redirect_url"] = self.redirect_url
        if self.reference is not None:
            values["reference"] = self.reference
        if self.paid_at is not None:
            values["paid_at"] = self.paid_at
        if self.events:
            values["events"] = [event.as_dict() for event in self.events]
        return values


def payment_status(payment: Payment, order_status: str) -> str:
    if payment.needs_review:
        return NEEDS_REVIEW
    return _BY_ORDER_STATUS.get(order_status, AWAITING_PAYMENT)


def parse_bank_accounts(text: str) -> tuple[BankAccount, ...]:
    """`BANK_TRANSFER_ACCOUNTS`: accounts separated by `;`, each `BANK NUMBER a.n. NAME`
    (e.g. `BCA 1234567890 a.n. PT Cloud Store`). Raises ValueError on a malformed entry."""
    accounts = []
    for part in text.split(";"):
        entry = " ".join(part.split())
        if not entry:
            continue
        head, sep, name = entry.partition(" a.n. ")
        words = head.split(" ")
        if not sep or len(words) < 2 or not name.strip():
            raise ValueError(f"expected 'BANK NUMBER a.n. NAME', got {entry!r}")
        accounts.append(
            BankAccount(bank=" ".join(words[:-1]), account_number=words[-1], account_name=name)
        )
    return tuple(accounts)
