"""Payment providers behind one small interface, chosen by `PAYMENT_PROVIDER`.

A provider (`PaymentProvider`) creates the payment for a placed order (`start`: Midtrans
makes a Snap transaction and gives back its payment page; a bank transfer needs nothing
from anyone), and reads a provider's notification (`read_notification`: parsed and its
signature checked). How to pay is on the order itself (`Payment.as_dict`: bank-transfer
instructions, or the provider's `redirect_url`).

`bank_transfer` is the zero-config one (`bank_transfer.py`); `midtrans` talks to Midtrans's
Snap and Core APIs over the one HTTP client of the process (`midtrans.py`), opened at
startup and closed at shutdown with the other backends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from cloudstore.domain.orders import Order
from cloudstore.domain.payments import BANK_TRANSFER, MIDTRANS, Notification
from cloudstore.settings import Settings


class GatewayUnavailable(Exception):
    """The provider did not answer in time, or answered with an error: nothing was made
    (or we cannot tell); the order stays as it is and the shop asks again later."""


class PaymentProvider(Protocol):
    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def start(self, order: Order, *, budget: float) -> str | None:
        """Create the provider's payment for a placed `order`; the page the shopper pays
        on, or None when there is none (bank transfer). Raises GatewayUnavailable."""
        ...

    def read_notification(self, values: Mapping[str, Any]) -> Notification:
        """A provider's notification, parsed and verified (Forbidden when it is not the
        provider's; NotFound when this shop takes none)."""
        ...

    async def status(self, order_id: str, *, budget: float) -> Notification | None:
        """What the provider says of an order's payment now (None: it knows nothing of it).
        Raises GatewayUnavailable."""
        ...


def provider_for(settings: Settings) -> PaymentProvider:
    """The provider `PAYMENT_PROVIDER` names (validated at startup)."""
    from cloudstore.payments.bank_transfer import BankTransfer
    from cloudstore.payments.midtrans import Midtrans

    if settings.payment_provider == MIDTRANS:
        return Midtrans(settings)
    assert settings.payment_provider == BANK_TRANSFER
    return BankTransfer(settings)
