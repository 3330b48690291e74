from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme, validate_querystring, validate_request

from cloudstore.domain.cart import CartLine
from cloudstore.shop import orders as order_use_cases
from cloudstore.shop.checkout import place_order
from cloudstore.shop.orders import cancel_own_order
from cloudstore.shop.payments import own_order_to_pay
from cloudstore.web.api.idempotency import idempotency_key, replay_headers
from cloudstore.web.api.models import (
    ErrorOut,
    OrderBody,
    OrderEnvelope,
    OrderListOut,
    OrderQuery,
)
from cloudstore.web.envelope import ok
from cloudstore.web.session import backends, current_user, login_required

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.post("")
@security_scheme([{"bearer": []}])
@login_required
@validate_request(OrderBody)
@document_response(OrderEnvelope, 201)
@document_response(ErrorOut, 409)
@document_response(ErrorOut, 422)
@document_response(ErrorOut, 503)
async def create_order(data: OrderBody):
    """Place an order. The server prices every line and computes tax and total; stock is
    taken in the same transaction. Send an Idempotency-Key header to make retries safe (the
    same key with a different request is a 422). A customer may hold at most
    MAX_PENDING_ORDERS unpaid orders (409). A 503 says whether the order was placed."""
    user = await current_user()
    placed = await place_order(
        backends(),
        user_id=user.user_id,
        lines=[CartLine(item.product_id, item.quantity) for item in data.items],
        shipping_address=data.shipping_address.model_dump(exclude_none=True),
        client_total=data.total_amount,
        idempotency_key=idempotency_key(),
    )
    return ok(201, headers=replay_headers(placed.replayed), data=placed.order.as_dict())


@bp.get("")
@security_scheme([{"bearer": []}])
@login_required
@validate_querystring(OrderQuery)
@document_response(OrderListOut, 200)
async def list_orders(query_args: OrderQuery):
    """The user's orders, newest first."""
    user = await current_user()
    orders, next_cursor = await order_use_cases.list_own(
        backends(), user.user_id, limit=query_args.limit, cursor=query_args.cursor
    )
    total = await order_use_cases.count_own(
        backends(), user.user_id, orders, query_args.cursor, next_cursor
    )
    return ok(
        data=[order.as_dict() for order in orders],
        count=len(orders),
        total=total,
        next_cursor=next_cursor,
    )


@bp.get("/<order_id>")
@security_scheme([{"bearer": []}])
@login_required
@document_response(OrderEnvelope, 200)
@document_response(ErrorOut, 404)
async def get_order(order_id: str):
    """One of the user's orders (404 for anyone else's). A Midtrans order the checkout
    could not make a payment page for gets one now, if Midtrans answers."""
    user = await current_user()
    order = await own_order_to_pay(backends(), user.user_id, order_id)
    return ok(data=order.as_dict())


@bp.post("/<order_id>/cancel")
@security_scheme([{"bearer": []}])
@login_required
@document_response(OrderEnvelope, 200)
@document_response(ErrorOut, 409)
async def cancel_order(order_id: str):
    """Cancel one of the user's own pending orders; its stock goes back to the catalog."""
    user = await current_user()
    order = await cancel_own_order(backends(), user.user_id, order_id)
    return ok(data=order.as_dict())
