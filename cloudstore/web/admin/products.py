"""Products: the table (search, category, low stock, paging), create, inline edit, delete,
and stock +/− (atomic, never below zero).

Every fragment is a `{% block %}` of `admin/products.html` (or `admin/product_new.html`):
`results` for a search or a page, `row` and `edit_row` for one product. Without JavaScript
the same URLs answer with whole pages and redirects.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from cloudstore.domain.catalog import CatalogIndex, Page, Product, encode_cursor
from cloudstore.domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.images import megabytes, too_large
from cloudstore.domain.numbers import whole_number
from cloudstore.shop import catalog
from cloudstore.web.admin.common import back_to, table_row
from cloudstore.web.admin.forms import (
    MAX_DELTA,
    ProductForm,
    image_message,
    product_fields,
    product_form,
    product_values,
)
from cloudstore.web.errors import render_error_page
from cloudstore.web.html.listing import catalog_filters, listing_url
from cloudstore.web.html.responses import (
    current_page,
    fragment,
    go,
    hx_target,
    is_htmx,
    notify,
    page,
)
from cloudstore.web.session import backends

bp = Blueprint("products", __name__, url_prefix="/products")
PAGE_SIZE = 20
SCAN_CHUNK = 500


# --- the list -------------------------------------------------------------------------------


def list_filters() -> dict:
    """The storefront's filters plus the low-stock switch."""
    low = "1" if request.args.get("low") in ("1", "on", "true") else ""
    return {**catalog_filters(), "low": low}


def list_url(filters: dict | None = None, cursor: str | None = None) -> str:
    return listing_url("admin.products.index", filters or {}, cursor)


def current_list_url() -> str:
    """The admin page this request came from (for the `next` field of no-JS forms)."""
    return current_page("/admin/products", list_url())


def threshold() -> int:
    return backends().settings.low_stock_threshold


def _query(filters: dict) -> dict:
    return {
        "category": filters["category"] or None,
        "q": filters["q"] or None,
        "sort": filters["sort"],
    }


def low_stock_page(index: CatalogIndex, query: dict, cursor: str | None, limit: int) -> Page:
    """The products at or under the threshold, in the chosen order, one page at a time: walk
    the index in chunks from the cursor; the next cursor is the last product shown."""
    limit_stock = threshold()
    found: list[Product] = []
    position = cursor
    while len(found) <= limit:
        chunk = index.query(**query, limit=SCAN_CHUNK, cursor=position)
        for product in chunk.items:
            if product.stock <= limit_stock:
                found.append(product)
                if len(found) > limit:
                    break
        if not chunk.next_cursor:
            break
        position = chunk.next_cursor
    everything = index.query(**query, limit=max(len(index), 1)).items
    total = sum(1 for product in everything if product.stock <= limit_stock)
    items = found[:limit]
    more = len(found) > limit
    return Page(
        items=items,
        total=total,
        next_cursor=encode_cursor(query["sort"], items[-1]) if more and items else None,
    )


def low_stock_count(index: CatalogIndex) -> int:
    limit_stock = threshold()
    return sum(1 for p in index.query(limit=max(len(index), 1)).items if p.stock <= limit_stock)


@bp.get("")
async def index():
    filters = list_filters()
    cursor = request.args.get("cursor") or None
    snapshot = await catalog.snapshot(backends())
    query = _query(filters)
    try:
        if filters["low"]:
            results = low_stock_page(snapshot, query, cursor, PAGE_SIZE)
        else:
            results = snapshot.query(**query, limit=PAGE_SIZE, cursor=cursor)
    except InvalidInput:  # a stale or edited cursor: start from the top
        cursor = None
        if filters["low"]:
            results = low_stock_page(snapshot, query, None, PAGE_SIZE)
        else:
            results = snapshot.query(**query, limit=PAGE_SIZE)
    target = hx_target()
    blocks = ["results"] if target == "product-results" else None
    headers = {"HX-Push-Url": list_url(filters, cursor)} if blocks else None
    return await page(
        "admin/products.html",
        blocks,
        headers=headers,
        filters=filters,
        results=results,
        next_url=list_url(filters, results.next_cursor) if results.next_cursor else None,
        first_url=list_url(filters),
        continued=bool(cursor),
        threshold=threshold(),
        here=list_url(filters, cursor),
        editing=None,
        single=False,
    )


# --- one product ---------------------------------------------------------------------------


async def load(product_id: str) -> Product:
    """The product as DynamoDB has it now (a consistent read), or 404."""
    try:
        return await catalog.fetch_product(backends(), product_id)
    except NotFound:
        raise _gone() from None


def _gone() -> NotFound:
    return NotFound(
        "We could not find that product. It may have been deleted.",
        code=ErrorCode.PRODUCT_NOT_FOUND,
    )


def _by() -> str:
    """The signed-in admin (checked for every admin route), for the audit trail."""
    return g.user.user_id


def _below_zero(error: DomainError) -> str:
    return f"Stock cannot go below zero: there are {error.details.get('stock', 0)} in stock."


def _row_request(product_id: str) -> bool:
    return hx_target() == f"product-{product_id}"


async def _row(product: Product, **shown: Any):
    return await table_row(
        "admin/products.html",
        "row",
        here=current_list_url(),
        product=product,
        threshold=threshold(),
        **shown,
    )


async def _edit_page(product: Product, form: ProductForm, status: int = 200):
    """The edit form: the row itself for htmx, else the table holding just this product."""
    context: dict[str, Any] = {
        "product": product,
        "form": form,
        "threshold": threshold(),
        "here": current_list_url(),
    }
    if is_htmx():
        return await fragment("admin/products.html", ["edit_row"], status=status, **context)
    filters = {"q": "", "category": "", "sort": "newest", "low": ""}
    return await page(
        "admin/products.html",
        status=status,
        filters=filters,
        results=Page(items=[product], total=1, next_cursor=None),
        next_url=None,
        first_url=list_url(),
        continued=False,
        editing=product.product_id,
        single=True,
        **context,
    )


# --- the image upload (the product forms are multipart) ---------------------------------------

IMAGE_CODES = frozenset(
    {
        ErrorCode.IMAGE_TYPE,
        ErrorCode.IMAGE_TOO_LARGE,
        ErrorCode.IMAGE_CORRUPT,
        ErrorCode.IMAGE_TOO_MANY_PIXELS,
    }
)


def _max_upload() -> str:
    return megabytes(backends().settings.max_upload_bytes)


async def _upload() -> bytes | None:
    """The chosen file's bytes, or None when no file was chosen (an empty file part). Its
    name and content type are ignored: the content is what is checked."""
    upload = (await request.files).get("image")
    if upload is None or not upload.filename:
        return None
    limit = backends().settings.max_upload_bytes
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def _image_refused(form: ProductForm, error: DomainError) -> bool:
    """Put a refused image's message on the form; False for any other error."""
    if error.code not in IMAGE_CODES:
        return False
    form.errors["image"] = image_message(error, _max_upload())
    return True


@bp.errorhandler(RequestEntityTooLarge)
async def body_too_large(_error: RequestEntityTooLarge):
    """A body over the upload routes' limit (the image and the form): nothing of it was read,
    so the form comes back empty (a new product) or as stored (an edit), with the message.
    htmx gets 422 (it swaps that), a plain form post the honest 413."""
    status = 422 if is_htmx() else 413
    message = image_message(too_large(backends().settings.max_upload_bytes), _max_upload())
    product_id = (request.view_args or {}).get("product_id")
    if request.endpoint == "admin.products.update" and product_id:
        product = await load(product_id)
        form = ProductForm(values=product_values(product), errors={"image": message})
        return await _edit_page(product, form, status=status)
    if request.endpoint == "admin.products.create":
        form = ProductForm(values={"category": "", "stock": "0"}, errors={"image": message})
        return await page("admin/product_new.html", ["create_form"], status=status, form=form)
    return await render_error_page(413)  # any other admin route: its 1 MB limit


@bp.get("/new")
async def new():
    form = ProductForm(values={"category": "", "stock": "0"})
    return await page("admin/product_new.html", form=form)


@bp.post("")
async def create():
    data = await request.form
    form = product_form(backends(), data, new=True)
    try:
        image = await _upload()
    except DomainError as error:
        if not _image_refused(form, error):
            raise
        image = None
    if form.ok:
        try:
            product = await catalog.create_product(
                backends(), product_fields(form), by=_by(), image=image
            )
        except DomainError as error:
            if not _image_refused(form, error):
                if not isinstance(error, InvalidInput):
                    raise
                form.message = error.sentence()
        else:
            response = go(list_url())
            return notify(response, f"Created “{product.name}” ({product.product_id}).")
    return await page("admin/product_new.html", ["create_form"], status=422, form=form)


@bp.get("/<product_id>/edit")
async def edit(product_id: str):
    product = await load(product_id)
    return await _edit_page(product, ProductForm(values=product_values(product)))


@bp.get("/<product_id>/row")
async def row(product_id: str):
    """The plain row again (Cancel in the edit row); without htmx, the list."""
    product = await load(product_id)
    if not is_htmx():
        return go(list_url())
    return await _row(product)


@bp.route("/<product_id>", methods=["PUT", "POST"])
async def update(product_id: str):
    """Save the edit row (PUT from htmx, POST from the no-JS form)."""
    data = await request.form
    product = await load(product_id)
    form = product_form(backends(), data, new=False)
    try:
        image = await _upload()
    except DomainError as error:
        if not _image_refused(form, error):
            raise
        image = None
    if not form.ok:
        return await _edit_page(product, form, status=422)
    try:
        edit = await catalog.edit_product(
            backends(),
            product_id,
            product_fields(form),
            stock_delta=form.clean["stock_delta"],
            by=_by(),
            image=image,
            remove_image=data.get("remove_image") == "1",
        )
    except DomainError as error:
        if _image_refused(form, error):
            return await _edit_page(product, form, status=422)
        if error.code != ErrorCode.STOCK_BELOW_ZERO:
            raise
        form.errors["stock_delta"] = _below_zero(error)
        return await _edit_page(await load(product_id), form, status=409)
    product = edit.product
    text = f"Saved “{product.name}”." if edit.changed else "No changes to save."
    toast = {"kind": "success" if edit.changed else "info", "text": text}
    if is_htmx():
        return await _row(product, toast=toast)
    return notify(go(back_to(data, list_url())), toast["text"], toast["kind"])


@bp.post("/<product_id>/stock")
async def stock(product_id: str):
    data = await request.form
    try:
        delta = whole_number(data.get("delta"), name="delta", minimum=-MAX_DELTA, maximum=MAX_DELTA)
    except InvalidInput:
        delta = 0
    if not delta or abs(delta) > MAX_DELTA:
        raise InvalidInput(
            "The stock change must be a whole number other than zero.",
            code=ErrorCode.INVALID,
            field="delta",
        )
    back = back_to(data, list_url())
    try:
        product = await catalog.adjust_stock(backends(), product_id, delta, by=_by())
    except DomainError as error:
        if error.code != ErrorCode.STOCK_BELOW_ZERO:
            raise
        current = await load(product_id)
        message = _below_zero(error)
        if _row_request(product_id):
            return await _row(current, message=message, status=409)
        return notify(go(back), f"{current.name}: {message}", "error")
    text = f"Stock of “{product.name}” is now {product.stock}."
    if _row_request(product_id):
        return await _row(product, toast={"kind": "success", "text": text})
    return notify(go(back), text)


@bp.get("/<product_id>/delete")
async def confirm_delete(product_id: str):
    """The no-JS confirmation (with htmx, `hx-confirm` asks and DELETE follows)."""
    product = await load(product_id)
    back = back_to(request.args, list_url())
    return await page("admin/product_delete.html", product=product, back=back)


@bp.delete("/<product_id>")
async def delete(product_id: str):
    """htmx, after `hx-confirm`: the row goes (an empty swap), a toast says so."""
    return await _delete(product_id, {})


@bp.post("/<product_id>/delete")
async def delete_confirmed(product_id: str):
    """The no-JS confirmation page's form."""
    return await _delete(product_id, await request.form)


async def _delete(product_id: str, data):
    try:
        product = await catalog.delete_product(backends(), product_id, by=_by())
    except NotFound:
        raise _gone() from None
    text = f"Deleted “{product.name}”."
    if _row_request(product_id):
        # An empty body replaces the row; the toast arrives out of band.
        return await fragment("admin/products.html", [], toast={"kind": "success", "text": text})
    return notify(go(back_to(data, list_url())), text)
