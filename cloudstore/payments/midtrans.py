"""Midtrans: a Snap transaction per order (the shopper pays on Midtrans's page), and
Midtrans's HTTP notifications telling us how it went.

Requests follow Midtrans's documented REST API (as its official client sends them): JSON,
HTTP basic auth with the server key as the user name and no password. Snap
(`MIDTRANS_SNAP_URL`) answers a created transaction with 201 `{token, redirect_url}`; the
Core API (`MIDTRANS_API_URL`) answers `GET /v2/{order_id}/status` with the transaction as
a notification would carry it. Every notification is signed: `signature_key` is the
SHA-512 hex of order_id + status_code + gross_amount + the server key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC
from typing import Any
from urllib.parse import quote

import httpx

from cloudstore.domain.errors import DomainError, ErrorCode, Forbidden
from cloudstore.domain.orders import Order
from cloudstore.domain.payments import MIDTRANS, Notification, parse_utc
from cloudstore.payments import GatewayUnavailable
from cloudstore.settings import Settings

log = logging.getLogger(__name__)

NOTIFICATION_PATH = "/api/payments/notifications"
# Midtrans's limits on item_details names, and the id of the tax line.
ITEM_NAME_MAX = 50
TAX_ITEM_ID = "TAX"
USER_AGENT = "cloudstore"


def verified_notification(values: Mapping[str, Any], server_key: str) -> Notification:
    """A notification whose signature is Midtrans's (made with our server key); else 403."""
    notification = Notification.from_mapping(values)
    if not notification.signed_by(server_key):
        raise Forbidden(
            "the notification's signature is not valid", code=ErrorCode.PAYMENT_SIGNATURE_INVALID
        )
    return notification


def snap_request(order: Order, public_url: str) -> dict[str, Any]:
    """The Snap transaction for `order`: the amount as an integer, one item per line plus
    the tax (so the items add up to the amount), who pays, where Midtrans sends the shopper
    back, and an expiry that ends when the order's payment window does."""
    items: list[dict[str, Any]] = [
        {
            "id": line.product_id,
            "price": int(line.price),
            "quantity": line.quantity,
            "name": line.name[:ITEM_NAME_MAX],
            "category": line.category[:ITEM_NAME_MAX],
        }
        for line in order.items
    ]
    if order.tax:
        rate = f"{order.tax_rate * 100:g}%"
        items.append(
            {"id": TAX_ITEM_ID, "price": int(order.tax), "quantity": 1, "name": f"PPN {rate}"}
        )
    address = order.shipping_address
    shipping = {
        "first_name": address.name,
        "phone": address.phone,
        "address": address.address,
        "city": address.city,
        "postal_code": address.postal_code,
        "country_code": "IDN",
    }
    request: dict[str, Any] = {
        "transaction_details": {
            "order_id": order.order_id,
            "gross_amount": int(order.total_amount),
        },
        "item_details": items,
        "customer_details": {
            "first_name": address.name,
            "phone": address.phone,
            "shipping_address": shipping,
        },
        "callbacks": {"finish": f"{public_url}/orders/{quote(order.order_id)}"},
    }
    if order.expires_at:
        start = parse_utc(order.created_at).astimezone(UTC)
        minutes = int((parse_utc(order.expires_at) - start).total_seconds() // 60)
        request["expiry"] = {
            "start_time": start.strftime("%Y-%m-%d %H:%M:%S +0000"),
            "unit": "minute",
            "duration": max(minutes, 1),
        }
    return request


class Midtrans:
    name = MIDTRANS

    def __init__(self, settings: Settings) -> None:
        assert settings.midtrans_server_key and settings.public_url, "checked at startup"
        self.settings = settings
        self.server_key = settings.midtrans_server_key
        self.public_url = settings.public_url
        self.client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self.client = httpx.AsyncClient(
            auth=httpx.BasicAuth(self.server_key, ""),
            headers={
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                # Notifications for our transactions come to this shop's endpoint.
                "X-Override-Notification": self.public_url + NOTIFICATION_PATH,
            },
            timeout=httpx.Timeout(self.settings.backend_timeout),
            follow_redirects=False,
        )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def start(self, order: Order, *, budget: float) -> str | None:
        reply = await self._call(
            "POST",
            self.settings.midtrans_snap_url,
            budget,
            json=snap_request(order, self.public_url),
        )
        url = reply.get("redirect_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            log.warning("midtrans snap answered without a redirect_url for %s", order.order_id)
            raise GatewayUnavailable("Midtrans gave no payment page")
        return url

    def read_notification(self, values: Mapping[str, Any]) -> Notification:
        return verified_notification(values, self.server_key)

    async def status(self, order_id: str, *, budget: float) -> Notification | None:
        url = f"{self.settings.midtrans_api_url}/v2/{quote(order_id, safe='')}/status"
        reply = await self._call("GET", url, budget)
        code = str(reply.get("status_code", ""))
        if code == "404":
            return None
        if not (code.startswith("2") or code == "407"):
            # 407 is an expired transaction; other 4xx/5xx say Midtrans could not tell.
            raise GatewayUnavailable(f"Midtrans answered status_code {code!r}")
        try:
            # Asked by us over TLS with our key: the answer needs no signature of its own.
            return Notification.from_mapping({"signature_key": "-", **reply})
        except DomainError as error:
            raise GatewayUnavailable("Midtrans's status answer was not understood") from error

    async def _call(self, method: str, url: str, budget: float, **kwargs: Any) -> dict[str, Any]:
        if self.client is None:
            raise GatewayUnavailable("the Midtrans client is not open")
        try:
            # The budget bounds the whole exchange (httpx's timeouts are per phase).
            response = await asyncio.wait_for(
                self.client.request(method, url, **kwargs), timeout=max(budget, 0.001)
            )
            reply = response.json()
        except (httpx.HTTPError, ValueError, TimeoutError) as error:
            log.warning("midtrans %s %s failed: %s", method, url, type(error).__name__)
            raise GatewayUnavailable("Midtrans did not answer") from error
        if not isinstance(reply, dict):
            raise GatewayUnavailable("Midtrans answered something else than JSON")
        if response.status_code == 404 and method == "GET":
            return {"status_code": "404"}
        if response.status_code >= 400:
            log.warning(
                "midtrans %s %s answered %s: %s",
                method,
                url,
                response.status_code,
                str(reply.get("error_messages") or reply.get("status_message"))[:300],
            )
            raise GatewayUnavailable(f"Midtrans answered {response.status_code}")
        return reply
