"""An order's payment on the admin's order page: provider, status, amount, reference, when
paid, what the provider said (events), a warning when it needs review, and confirming a
bank transfer by hand on a pending order (htmx and a plain form alike; refusals and errors
are shown on the form, the outcome in the payment panel, which takes focus)."""

from __future__ import annotations

from quart import Blueprint, g, request, url_for

from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.orders import CANCELLED, EXPIRED, PAID, PENDING, Order
from cloudstore.domain.payments import BANK_TRANSFER, MIDTRANS, payment_status
from cloudstore.shop import order_search
from cloudstore.shop import orders as order_use_cases
from cloudstore.shop.payments import confirm_bank_transfer
from cloudstore.web.html.forms import Form
from cloudstore.web.html.responses import current_page, go, is_htmx, notify, page
from cloudstore.web.session import backends

bp = Blueprint("payments", __name__, url_prefix="/orders")
MAX_REFERENCE = 100
PROVIDER_LABELS = {BANK_TRANSFER: "Bank transfer", MIDTRANS: "Midtrans"}
PAYMENT_STATUS_LABELS = {
    "awaiting_payment": "Awaiting payment",
    "paid": "Paid",
    "expired": "Expired (not paid in time)",
    "cancelled": "Cancelled (order cancelled)",
    "needs_review": "Needs review",
}
REFERENCE_ERRORS = {
    ErrorCode.REQUIRED: "Enter the transfer's reference, as the bank statement shows it.",
    ErrorCode.TOO_LONG: f"The reference is at most {MAX_REFERENCE} characters.",
    ErrorCode.CONTROL_CHARACTERS: "The reference may only hold printable characters.",
}


def current_url() -> str:
    return current_page("/admin/orders", url_for("admin.orders.index"))


async def load(order_id: str) -> Order:
    try:
        return await order_use_cases.find_any(backends(), order_id)
    except NotFound:
        raise NotFound("We could not find that order.", code=ErrorCode.ORDER_NOT_FOUND) from None


def refusal(order: Order, error: Conflict) -> str:
    """Why the payment of `order` (as it is now) cannot be confirmed."""
    if order.status == PAID:
        return "This order is already paid: there is nothing to confirm."
    if order.status == CANCELLED:
        return (
            "This order was cancelled, so its payment cannot be confirmed. If the customer "
            "did pay, refund the transfer."
        )
    if order.status == EXPIRED:
        return (
            "This order expired before its payment was confirmed. If the customer did pay, "
            "refund the transfer or ask them to order again."
        )
    if order.status != PENDING:
        return f"This order is {order.status}: only a pending order's payment is confirmed."
    if order.payment is not None and order.payment.provider != BANK_TRANSFER:
        provider = PROVIDER_LABELS.get(order.payment.provider, order.payment.provider)
        return f"This order is paid through {provider}, which confirms the payment itself."
    if error.code == ErrorCode.ORDER_CHANGED:
        return "The order changed meanwhile. Please check it and try again."
    return error.sentence()


async def order_page(
    order: Order,
    *,
    here: str,
    form: Form | None = None,
    message: str | None = None,
    status: int = 200,
):
    """The admin's order page (or, for htmx, its `order_main` block)."""
    payment = order.payment
    key = payment_status(payment, order.status) if payment else ""
    return await page(
        "admin/order.html",
        ["order_main"],
        status=status,
        order=order,
        people=await order_search.people_of(backends(), [order]),
        here=here,
        cancelled=CANCELLED,
        form=form or Form(),
        payment_message=message,
        can_confirm=order.awaits_bank_transfer(),
        provider_label=PROVIDER_LABELS.get(payment.provider, payment.provider) if payment else "",
        payment_key=key,
        payment_label=PAYMENT_STATUS_LABELS.get(key, key),
        max_reference=MAX_REFERENCE,
    )


@bp.post("/<order_id>/payment")
async def confirm(order_id: str):
    data = await request.form
    reference = str(data.get("reference", ""))
    form = Form(values={"reference": " ".join(reference.split())[: MAX_REFERENCE * 2]})
    try:
        order = await confirm_bank_transfer(backends(), g.user.user_id, order_id, reference)
    except NotFound:
        raise NotFound("We could not find that order.", code=ErrorCode.ORDER_NOT_FOUND) from None
    except InvalidInput as error:
        form.errors["reference"] = REFERENCE_ERRORS.get(error.code) or error.sentence()
        form.message = "The payment was not confirmed: please check the reference."
        return await order_page(await load(order_id), here=current_url(), form=form, status=422)
    except Conflict as error:
        current = await load(order_id)
        form.message = refusal(current, error)
        return await order_page(current, here=current_url(), form=form, status=409)
    text = f"Payment confirmed: order {order_id} is now paid."
    if is_htmx():
        return await order_page(order, here=current_url(), message=text)
    return notify(go(url_for("admin.orders.detail", order_id=order_id)), text)
