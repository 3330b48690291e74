"""Bank transfer: the shopper transfers the exact amount to one of the shop's accounts with
the order id as the transfer reference; an admin sees the money arrive and confirms the
payment (recording the bank's reference). Nothing to call, nothing to be told."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudstore.domain.errors import ErrorCode, NotFound
from cloudstore.domain.orders import Order
from cloudstore.domain.payments import BANK_TRANSFER, Notification
from cloudstore.settings import Settings


class BankTransfer:
    name = BANK_TRANSFER

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._midtrans: Any = None

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def start(self, order: Order, *, budget: float) -> str | None:  # noqa: ARG002
        return None  # the instructions are on the order (its payment's accounts)

    def read_notification(self, values: Mapping[str, Any]) -> Notification:
        # Orders placed while the shop took Midtrans may still be notified about: with the
        # server key still set, their notifications are verified and applied as before.
        if self.settings.midtrans_server_key:
            from cloudstore.payments.midtrans import verified_notification

            return verified_notification(values, self.settings.midtrans_server_key)
        raise NotFound("this shop takes no payment notifications", code=ErrorCode.ORDER_NOT_FOUND)

    async def status(self, order_id: str, *, budget: float) -> Notification | None:  # noqa: ARG002
        return None
