from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, validate_querystring

from cloudstore.domain.catalog import Page
from cloudstore.shop.catalog import find_product, snapshot
from cloudstore.web.api.models import ErrorOut, ProductEnvelope, ProductListOut, ProductQuery
from cloudstore.web.envelope import envelope_json, ok, ok_json
from cloudstore.web.html.catalog_answers import CatalogQuery, catalog_json
from cloudstore.web.session import backends

bp = Blueprint("products", __name__, url_prefix="/products")


@bp.get("")
@validate_querystring(ProductQuery)
@document_response(ProductListOut, 200)
@document_response(ErrorOut, 400)
async def list_products(query_args: ProductQuery):
    """List products: filter by category, search name and description, sort, page."""
    index = await snapshot(backends())
    query = CatalogQuery(
        category=(query_args.category or "").strip().lower() or None,
        q=(query_args.q or "").strip() or None,
        sort=query_args.sort,
        limit=query_args.limit,
        cursor=query_args.cursor or None,
    )
    # The same JSON for every caller: built once per snapshot (web/html/catalog_answers.py).
    return ok_json(catalog_json(index, query, list_json))


def list_json(page: Page) -> str:
    return envelope_json(
        data=[p.as_dict() for p in page.items],
        count=len(page.items),
        total=page.total,
        next_cursor=page.next_cursor,
    )


@bp.get("/<product_id>")
@document_response(ProductEnvelope, 200)
@document_response(ErrorOut, 404)
async def get_product(product_id: str):
    """One product by id."""
    product = await find_product(backends(), product_id)
    return ok(data=product.as_dict())
