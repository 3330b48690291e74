from __future__ import annotations

from quart import Blueprint, g, request
from quart_schema import (
    document_response,
    security_scheme,
    validate_querystring,
    validate_request,
)

from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.images import too_large
from cloudstore.domain.order_search import parse_filters
from cloudstore.shop import catalog, order_search
from cloudstore.shop.orders import admin_set_status
from cloudstore.web.api.idempotency import idempotency_key, replay_headers
from cloudstore.web.api.models import (
    AdminOrderFilters,
    AdminOrderQuery,
    ErrorOut,
    MessageOut,
    OrderEnvelope,
    OrderListOut,
    ProductCreate,
    ProductEnvelope,
    ProductUpdate,
    StatusBody,
    StockAdjust,
)
from cloudstore.web.csv_response import csv_response
from cloudstore.web.envelope import ok
from cloudstore.web.session import admin_required, backends

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.post("/products")
@security_scheme([{"bearer": []}])
@admin_required
@validate_request(ProductCreate)
@document_response(ProductEnvelope, 201)
@document_response(ErrorOut, 400)
async def create_product(data: ProductCreate):
    """Create a product (admins only)."""
    product = await catalog.create_product(backends(), data.model_dump(), by=g.user.user_id)
    return ok(201, data=product.as_dict())


@bp.put("/products/<product_id>")
@security_scheme([{"bearer": []}])
@admin_required
@validate_request(ProductUpdate)
@document_response(ProductEnvelope, 200)
@document_response(ErrorOut, 404)
async def update_product(product_id: str, data: ProductUpdate):
    """Update some fields of a product (admins only); a new category moves it atomically."""
    fields = data.model_dump(exclude_none=True)
    product = await catalog.update_product(backends(), product_id, fields, by=g.user.user_id)
    return ok(data=product.as_dict())


@bp.delete("/products/<product_id>")
@security_scheme([{"bearer": []}])
@admin_required
@document_response(MessageOut, 200)
@document_response(ErrorOut, 404)
async def delete_product(product_id: str):
    """Delete a product (admins only)."""
    await catalog.delete_product(backends(), product_id, by=g.user.user_id)
    return ok(message="product deleted")


@bp.post("/products/<product_id>/image")
@security_scheme([{"bearer": []}])
@admin_required
@document_response(ProductEnvelope, 200)
@document_response(ErrorOut, 400)
@document_response(ErrorOut, 404)
@document_response(ErrorOut, 413)
@document_response(ErrorOut, 415)
async def upload_image(product_id: str):
    """Upload the product's image (admins only): `multipart/form-data` with the file in the
    field `image`: PNG, JPEG or WebP (judged by its content), at most MAX_UPLOAD_BYTES (5 MB)
    and 40 megapixels. It replaces the current image (whose files are then deleted) and is
    shown at every size the pages use; `image_url` becomes its product-page size. A wrong
    type is a 415, too large (bytes or pixels) a 413, an unreadable image a 400."""
    upload = (await request.files).get("image")
    if upload is None:
        raise InvalidInput(
            "send the image as multipart/form-data in a field named image",
            code=ErrorCode.REQUIRED,
            field="image",
        )
    limit = backends().settings.max_upload_bytes
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    edit = await catalog.edit_product(backends(), product_id, {}, by=g.user.user_id, image=data)
    return ok(data=edit.product.as_dict())


@bp.delete("/products/<product_id>/image")
@security_scheme([{"bearer": []}])
@admin_required
@document_response(ProductEnvelope, 200)
@document_response(ErrorOut, 404)
async def delete_image(product_id: str):
    """Remove the product's uploaded image (admins only) and delete its files; the product
    shows the placeholder until another image is uploaded."""
    edit = await catalog.edit_product(
        backends(), product_id, {}, by=g.user.user_id, remove_image=True
    )
    return ok(data=edit.product.as_dict())


@bp.post("/products/<product_id>/stock")
@security_scheme([{"bearer": []}])
@admin_required
@validate_request(StockAdjust)
@document_response(ProductEnvelope, 200)
@document_response(ErrorOut, 409)
@document_response(ErrorOut, 422)
@document_response(ErrorOut, 503)
async def adjust_stock(product_id: str, data: StockAdjust):
    """Add `delta` (may be negative) to the stock, atomically; never below zero (409). Send
    an Idempotency-Key header to make retries safe (the same key with a different request
    is a 422). A 503 says whether the stock changed."""
    edit = await catalog.change_stock(
        backends(), product_id, data.delta, by=g.user.user_id, idempotency_key=idempotency_key()
    )
    return ok(headers=replay_headers(edit.replayed), data=edit.product.as_dict())


@bp.get("/orders")
@security_scheme([{"bearer": []}])
@admin_required
@validate_querystring(AdminOrderQuery)
@document_response(OrderListOut, 200)
@document_response(ErrorOut, 400)
async def list_orders(query_args: AdminOrderQuery):
    """Every customer's orders (admins only), newest or oldest first, one page: optionally
    one order by id (`q=ORD-…`) or one customer's (`q=` their email), of one status, placed
    within `from`..`to` (days in the shop's time zone, both included)."""
    filters = parse_filters(query_args.as_args())
    found = await order_search.search(
        backends(),
        filters,
        limit=query_args.limit,
        cursor=query_args.cursor,
        with_people=False,
    )
    return ok(
        data=[order.as_dict() for order in found.orders],
        count=len(found.orders),
        next_cursor=found.next_cursor,
    )


@bp.get("/orders/export")
@security_scheme([{"bearer": []}])
@admin_required
@validate_querystring(AdminOrderFilters)
@document_response(ErrorOut, 400)
async def export_orders(query_args: AdminOrderFilters):
    """The orders `GET /api/admin/orders` would list with the same filters, all pages, as a
    CSV file (text/csv, UTF-8 with a BOM), streamed; at most 10,000 rows. Amounts are whole
    rupiah; a text cell that starts with `=`, `+`, `-` or `@` is prefixed with `'`."""
    filters = parse_filters(query_args.as_args())
    chunks = order_search.export_csv(backends(), filters)
    return csv_response(chunks, order_search.export_filename(filters))


@bp.post("/orders/<order_id>/status")
@security_scheme([{"bearer": []}])
@admin_required
@validate_request(StatusBody)
@document_response(OrderEnvelope, 200)
@document_response(ErrorOut, 400)
@document_response(ErrorOut, 409)
async def set_order_status(order_id: str, data: StatusBody):
    """Move an order along its lifecycle (admins only); cancelling restores its stock.
    Marking a pending order `paid` records the payment's `reference` (required for bank
    transfers: 1-100 printable characters). `expired` is set by the shop alone (400)."""
    _, after = await admin_set_status(
        backends(), g.user.user_id, order_id, data.status, reference=data.reference
    )
    return ok(data=after.as_dict())
