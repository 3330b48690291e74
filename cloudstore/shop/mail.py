"""The shop's mail: what each message says (one function per message, plain text and HTML
from `templates/mail/`) and the hooks that queue them (`welcome`, `password_reset`,
`notify` for an order). Queuing never waits and never fails the request: the message is
built and sent by the mail queue's worker (`stores/mail.py`), retried, and logged if it
finally fails.

To change what an order mail says, change its function (it takes the `Order`) and its
templates; to add one for a new status, add it to `ORDER_MESSAGES`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from cloudstore.backends import Backends
from cloudstore.domain.accounts import User
from cloudstore.domain.orders import Order
from cloudstore.domain.shop_time import shop_clock
from cloudstore.domain.text import CONTROL
from cloudstore.money import format_idr
from cloudstore.settings import Settings, parse_mail_address

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
SHOP_NAME = "Cloud Store"
RESET_VALID_HOURS = 1


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["idr"] = format_idr
    return environment


def _one_line(text: str, limit: int = 200) -> str:
    """Header text: control characters (CR, LF...) become spaces, runs of space one."""
    return " ".join(CONTROL.sub(" ", text).split())[:limit]


def _address(name: str, email: str) -> Address:
    """An address header value built from parts, so no name or address can add a header."""
    local, _, domain = email.strip().rpartition("@")
    return Address(display_name=_one_line(name), username=_one_line(local), domain=domain)


def compose(
    settings: Settings, to: User, subject: str, template: str, **context: Any
) -> EmailMessage:
    """A message to `to` from MAIL_FROM: `mail/<template>.txt` as the text part and
    `mail/<template>.html` (in `_layout.html`) as the HTML alternative."""
    sender = parse_mail_address(settings.mail_from)
    assert sender is not None, "Settings.validate checked MAIL_FROM"
    sender_name, sender_address = sender
    # A non-ASCII local part can only travel as SMTPUTF8; everything else as plain SMTP
    # (non-ASCII names and subjects in encoded words).
    needs_utf8 = not to.email.isascii() or not sender_address.isascii()
    message = EmailMessage(policy=policy.SMTPUTF8 if needs_utf8 else policy.SMTP)
    message["Subject"] = _one_line(subject)
    message["From"] = _address(sender_name or SHOP_NAME, sender_address)
    message["To"] = _address(to.name, to.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    values = {
        "shop": SHOP_NAME,
        "name": to.name,
        "shop_url": settings.link_base + "/",
        "subject": message["Subject"],
        **context,
    }
    environment = _templates()
    message.set_content(environment.get_template(f"{template}.txt").render(values))
    message.add_alternative(
        environment.get_template(f"{template}.html").render(values), subtype="html"
    )
    return message


def _link(settings: Settings, path: str) -> str:
    return settings.link_base + "/" + path.lstrip("/")


# --- The messages ---------------------------------------------------------------------------


def welcome_message(settings: Settings, user: User) -> EmailMessage:
    return compose(
        settings,
        user,
        f"Welcome to {SHOP_NAME}",
        "welcome",
        orders_url=_link(settings, "/orders"),
    )


def password_reset_message(settings: Settings, user: User, link: str) -> EmailMessage:
    return compose(
        settings,
        user,
        f"Reset your {SHOP_NAME} password",
        "password_reset",
        reset_url=link,
        hours=RESET_VALID_HOURS,
    )


def _order_context(settings: Settings, order: Order) -> dict[str, Any]:
    """What every order mail shows; `pay_by` (the end of the payment window, in the shop's
    time zone) and `payment` (how to pay) when the order carries them."""
    payment = order.payment
    return {
        "order": order,
        "order_url": _link(settings, f"/orders/{order.order_id}"),
        "payment": payment,
        "pay_by": shop_clock(settings.shop_timezone).when(order.expires_at)
        if order.expires_at
        else None,
    }


def order_placed_message(settings: Settings, order: Order, user: User) -> EmailMessage:
    """Order placed: what was ordered, the total, and how to pay it (the bank accounts, the
    exact amount and the order id as transfer reference; or the provider's payment page)
    and by when."""
    return compose(
        settings,
        user,
        f"Order {order.order_id} placed: {format_idr(order.total_amount)} to pay",
        "order_placed",
        **_order_context(settings, order),
    )


def _order_update(
    settings: Settings, order: Order, user: User, subject: str, headline: str, lead: str
) -> EmailMessage:
    return compose(
        settings,
        user,
        subject,
        "order_update",
        headline=headline,
        lead=lead,
        **_order_context(settings, order),
    )


def order_paid_message(settings: Settings, order: Order, user: User) -> EmailMessage:
    return _order_update(
        settings,
        order,
        user,
        f"Payment received for order {order.order_id}",
        "Payment received",
        "Thank you: we have received your payment. We will let you know when the order ships.",
    )


def order_shipped_message(settings: Settings, order: Order, user: User) -> EmailMessage:
    return _order_update(
        settings,
        order,
        user,
        f"Order {order.order_id} has shipped",
        "Your order has shipped",
        "Your order is on its way to the address below.",
    )


def order_cancelled_message(settings: Settings, order: Order, user: User) -> EmailMessage:
    return _order_update(
        settings,
        order,
        user,
        f"Order {order.order_id} is cancelled",
        "Order cancelled",
        "This order is cancelled. If you paid for it, the payment will be returned to you.",
    )


def order_expired_message(settings: Settings, order: Order, user: User) -> EmailMessage:
    return _order_update(
        settings,
        order,
        user,
        f"Order {order.order_id} expired unpaid",
        "Order expired",
        "We did not receive payment in time, so this order has expired and its items "
        "were released. You are welcome to order again.",
    )


OrderMessage = Callable[[Settings, Order, User], EmailMessage]
# The mail an order gets on reaching each status ("pending" is a new order).
ORDER_MESSAGES: dict[str, OrderMessage] = {
    "pending": order_placed_message,
    "paid": order_paid_message,
    "shipped": order_shipped_message,
    "cancelled": order_cancelled_message,
    "expired": order_expired_message,
}


# --- The hooks: queue a message, never wait, never fail -----------------------------------


def welcome(backends: Backends, user: User) -> None:
    """Queue the welcome message for a new account."""
    settings = backends.settings

    async def job() -> EmailMessage:
        return welcome_message(settings, user)

    backends.mail.submit(job, "welcome")


def password_reset(backends: Backends, user: User, link: str) -> None:
    """Queue a password-reset link."""
    settings = backends.settings

    async def job() -> EmailMessage:
        return password_reset_message(settings, user, link)

    backends.mail.submit(job, "password reset")


def notify(backends: Backends, order: Order) -> None:
    """Queue the mail for the status `order` has just reached (placed, paid, shipped,
    cancelled, expired; nothing for the others). The customer is looked up when the
    message is built, off the request."""
    message = ORDER_MESSAGES.get(order.status)
    if message is None:
        return
    settings = backends.settings

    async def job() -> EmailMessage | None:
        user = await backends.users.by_id(order.user_id)
        return None if user is None else message(settings, order, user)

    backends.mail.submit(job, f"order {order.status}")
