"""Payments: how an order is paid, as the order carries it.

An order placed with a payment window holds a `Payment`: which provider takes the money
(`bank_transfer`, `midtrans`), the amount asked for, when the window closes, and what the
provider told us (`events`). The payment's status is not stored on its own: it follows the
order's status (`payment_status`), except that a payment flagged `needs_review` (a
notification that came for an order no longer pending) says so until an admin looks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from cloudstore.domain.errors import ErrorCode, InvalidInput

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
    when, from whom (`payment_provider`, `admin`), the provider's status word, the
    provider's transaction id (`reference`), and a note (why it was not applied, when it
    was not)."""

    at: str
    source: str
    status: str
    note: str | None = None
    reference: str | None = None

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {"at": self.at, "source": self.source, "status": self.status}
        if self.note is not None:
            values["note"] = self.note
        if self.reference is not None:
            values["reference"] = self.reference
        return values

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PaymentEvent:
        note = values.get("note")
        reference = values.get("reference")
        return cls(
            at=str(values.get("at", "")),
            source=str(values.get("source", "")),
            status=str(values.get("status", "")),
            note=None if note is None else str(note),
            reference=None if reference is None else str(reference),
        )

    def same_as(self, other: PaymentEvent) -> bool:
        """The same notification (a provider sends one again until it hears a 2xx)."""
        return (self.source, self.status, self.reference) == (
            other.source,
            other.status,
            other.reference,
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

    def has_event(self, event: PaymentEvent) -> bool:
        return any(known.same_as(event) for known in self.events)

    def with_event(self, event: PaymentEvent, *, review: bool = False) -> Payment:
        """The payment with `event` recorded (and flagged for an admin, if `review`)."""
        return replace(self, events=(*self.events, event), needs_review=self.needs_review or review)

    def confirmed(self, reference: str | None, at: str) -> Payment:
        """The payment once confirmed paid: its proof (`reference`) and when."""
        return replace(self, reference=reference or self.reference, paid_at=at)


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


# --- The payment window ----------------------------------------------------------------------

DEFAULT_PAYMENT_WINDOW_SECONDS = 86400
# The shortest PAYMENT_WINDOW_SECONDS allowed: the expiry sweep looks at every pending order
# older than this (an order placed under a shorter window than today's still expires on time).
MIN_PAYMENT_WINDOW_SECONDS = 60
EXPIRY_REASON = "payment window passed"


def parse_utc(text: str) -> datetime:
    """An ISO UTC time as the shop writes it (`2026-01-01T00:00:00.000Z`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso_utc(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def window_end(created_at: str, window_seconds: int) -> str:
    """When an order placed at `created_at` expires unpaid."""
    return iso_utc(parse_utc(created_at) + timedelta(seconds=window_seconds))


def window_passed(expires_at: str | None, now: datetime) -> bool:
    return bool(expires_at) and parse_utc(str(expires_at)) <= now


# --- Bank transfer: the admin's confirmation -------------------------------------------------

REFERENCE_MAX = 100


def transfer_reference(text: str | None, *, required: bool) -> str | None:
    """The reference an admin records when confirming a payment (the bank's transfer
    reference): 1-100 printable characters, surrounding spaces dropped. Required for bank
    transfers; optional otherwise (None when absent)."""
    value = (text or "").strip()
    if not value:
        if required:
            raise InvalidInput(
                "a bank transfer is confirmed with its transfer reference",
                code=ErrorCode.REQUIRED,
                field="reference",
            )
        return None
    if len(value) > REFERENCE_MAX:
        raise InvalidInput(
            f"the reference is at most {REFERENCE_MAX} characters",
            code=ErrorCode.TOO_LONG,
            field="reference",
        )
    if not value.isprintable():
        raise InvalidInput(
            "the reference may only hold printable characters",
            code=ErrorCode.CONTROL_CHARACTERS,
            field="reference",
        )
    return value


# --- Midtrans notifications ------------------------------------------------------------------

# What a notification's transaction_status does to a pending order (see `notification_outcome`).
_SETTLED, _FAILED = frozenset({"settlement"}), frozenset({"cancel", "deny"})
# The largest notification body read (Midtrans's are about 1 KB).
MAX_NOTIFICATION_BYTES = 16 * 1024
_MAX_FIELD = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Notification:
    """Midtrans's HTTP notification, the fields the shop reads."""

    order_id: str
    status_code: str
    gross_amount: str
    signature_key: str
    transaction_status: str
    fraud_status: str | None
    transaction_id: str | None

    @classmethod
    def from_mapping(cls, values: object) -> Notification:
        def text(name: str, required: bool = True) -> str | None:
            value = values.get(name) if isinstance(values, Mapping) else None
            if value is None and not required:
                return None
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise InvalidInput(
                    f"notification field {name} is missing", code=ErrorCode.REQUIRED, field=name
                )
            value = str(value)
            if not value or len(value) > _MAX_FIELD or _CONTROL.search(value):
                raise InvalidInput(
                    f"notification field {name} is not valid", code=ErrorCode.INVALID, field=name
                )
            return value

        return cls(
            order_id=str(text("order_id")),
            status_code=str(text("status_code")),
            gross_amount=str(text("gross_amount")),
            signature_key=str(text("signature_key")),
            transaction_status=str(text("transaction_status")),
            fraud_status=text("fraud_status", required=False),
            transaction_id=text("transaction_id", required=False),
        )

    def signed_by(self, server_key: str) -> bool:
        """Midtrans signs each notification: SHA-512 hex of order_id + status_code +
        gross_amount + the server key (compared in constant time)."""
        expected = notification_signature(
            self.order_id, self.status_code, self.gross_amount, server_key
        )
        return hmac.compare_digest(expected.encode(), self.signature_key.lower().encode())

    def amount(self) -> Decimal | None:
        try:
            value = Decimal(self.gross_amount)
        except InvalidOperation:
            return None
        return value if value.is_finite() else None

    def outcome(self) -> str | None:
        """The order status this notification asks for: `paid` (settlement, or a capture
        whose fraud status is accept), `expired` (expire), `cancelled` (cancel, deny), or
        None (pending, a challenged capture, anything else: nothing to do)."""
        status = self.transaction_status
        if status in _SETTLED or (status == "capture" and self.fraud_status == "accept"):
            return "paid"
        if status == "expire":
            return "expired"
        if status in _FAILED:
            return "cancelled"
        return None

    def event(self, at: str, note: str | None = None) -> PaymentEvent:
        return PaymentEvent(
            at=at,
            source="payment_provider",
            status=self.transaction_status,
            note=note,
            reference=self.transaction_id,
        )


def notification_signature(
    order_id: str, status_code: str, gross_amount: str, server_key: str
) -> str:
    text = order_id + status_code + gross_amount + server_key
    return hashlib.sha512(text.encode()).hexdigest()


_PAID_STATUSES = frozenset({"paid", "shipped", "delivered"})


def contradicts(outcome: str, order_status: str) -> bool:
    """A notification for an order no longer pending that disagrees with where the order
    went (money for an expired or cancelled order; a deny after a settlement): an admin
    must look (`needs_review`)."""
    return (outcome == "paid") != (order_status in _PAID_STATUSES)
