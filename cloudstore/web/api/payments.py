"""Payment providers calling back: Midtrans's HTTP notification.

No login and no CSRF token (Midtrans is not a browser with our session): the notification
proves itself with its signature, checked by the shop (403 when it does not)."""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import document_request, document_response

from cloudstore.domain.payments import MAX_NOTIFICATION_BYTES
from cloudstore.shop.payments import handle_notification
from cloudstore.web.api.models import ErrorOut, MessageOut, NotificationIn
from cloudstore.web.envelope import fail, ok
from cloudstore.web.session import backends

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/notifications")
@document_request(NotificationIn)
@document_response(MessageOut, 200)
@document_response(ErrorOut, 400)
@document_response(ErrorOut, 403)
@document_response(ErrorOut, 404)
@document_response(ErrorOut, 409)
@document_response(ErrorOut, 413)
async def notification():
    """Midtrans's payment notification (its standard JSON, signed with `signature_key`).
    Moves a pending order to paid, expired or cancelled; one for an order no longer
    pending is kept on its payment for an admin. 403: bad signature; 404: unknown order;
    409: the amount is not the order's; the same notification again: 200, no change."""
    if (request.content_length or 0) > MAX_NOTIFICATION_BYTES:
        return fail(413, "the notification is too large")
    body = await request.get_data(cache=False)  # at most MAX_CONTENT_LENGTH, unannounced
    if len(body) > MAX_NOTIFICATION_BYTES:
        return fail(413, "the notification is too large")
    result = await handle_notification(backends(), body)
    return ok(message=result.outcome)
