"""`/admin/orders.csv`: the orders the list's filters select, as a CSV file, streamed (see
`shop.order_search.export_csv`). Malformed filters are a 400 page: a file with other rows
than the ones asked for would be worse than none."""

from __future__ import annotations

from quart import Blueprint, request

from cloudstore.domain.order_search import parse_filters
from cloudstore.shop import order_search
from cloudstore.web.csv_response import csv_response
from cloudstore.web.session import backends

bp = Blueprint("exports", __name__)


@bp.get("/orders.csv")
async def orders_csv():
    filters = parse_filters(request.args)
    chunks = order_search.export_csv(backends(), filters)
    return csv_response(chunks, order_search.export_filename(filters))
