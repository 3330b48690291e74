"""Finding orders (admins): by order id or customer email, by status and date range, newest
or oldest first, a page at a time, with the customers' accounts; and the same filters as a
CSV file, streamed page by page. Which index answers what is in `stores/orders.py` and the
README ("Admin order queries"). Never a Scan.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from cloudstore.backends import Backends
from cloudstore.domain.accounts import User
from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.order_search import (
    BY_EMAIL,
    BY_ORDER_ID,
    EVERYONE,
    OrderFilters,
    csv_cell,
)
from cloudstore.domain.orders import Order

EXPORT_PAGE = 100
# The most rows one export holds: past it, narrow the filters (a date range).
EXPORT_MAX_ROWS = 10_000
BOM = "\ufeff"
CSV_COLUMNS = (
    "order_id",
    "placed_at",
    "status",
    "customer_name",
    "customer_email",
    "user_id",
    "units",
    "subtotal",
    "tax",
    "total_amount",
    "currency",
    "ship_to_name",
    "ship_to_phone",
    "ship_to_city",
    "ship_to_postal_code",
)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def shop_zone(backends: Backends) -> tzinfo:
    """The shop's time zone (`SHOP_TIMEZONE`): the date filters' days are its days."""
    return _zone(backends.settings.shop_timezone)


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    next_cursor: str | None
    # The cursor actually used: None when a bad one was dropped (restart_on_bad_cursor).
    cursor: str | None
    # The accounts of the orders' customers and of whoever changed their status, by id.
    people: dict[str, User] = field(default_factory=dict)


async def search(
    backends: Backends,
    filters: OrderFilters,
    *,
    limit: int,
    cursor: str | None = None,
    restart_on_bad_cursor: bool = False,
    with_people: bool = True,
    zone: tzinfo | None = None,
) -> OrderPage:
    """One page of the orders matching `filters` (dates are days in `zone`, by default the
    shop's)."""
    zone = zone or shop_zone(backends)
    try:
        orders, next_cursor = await _find(backends, filters, zone, limit, cursor)
    except InvalidInput as error:
        if not restart_on_bad_cursor or error.code != ErrorCode.INVALID_CURSOR:
            raise
        cursor = None
        orders, next_cursor = await _find(backends, filters, zone, limit, None)
    people = await people_of(backends, orders) if with_people else {}
    return OrderPage(orders=orders, next_cursor=next_cursor, cursor=cursor, people=people)


async def people_of(backends: Backends, orders: Iterable[Order]) -> dict[str, User]:
    """The accounts behind these orders (customers, and who moved their status): one query."""
    ids: set[str] = set()
    for order in orders:
        ids.add(order.user_id)
        ids.update(entry.by_user_id for entry in order.status_history if entry.by_user_id)
    return await backends.users.by_ids(ids)


async def _find(
    backends: Backends, filters: OrderFilters, zone: tzinfo, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    by = filters.search_by
    if by == BY_ORDER_ID:
        found = await backends.orders.find(filters.q)
        if found is None or not filters.matches(found.order_id, found.status, zone):
            return [], None
        order = await backends.orders.get(found.user_id, found.order_id) or found
        return [order], None
    user_id = None
    if by == BY_EMAIL:
        customer = await backends.users.by_email(filters.q)
        if customer is None:
            return [], None
        user_id = customer.user_id
    elif by != EVERYONE:
        return [], None
    low, high = filters.id_range(zone)
    return await backends.orders.search(
        low=low,
        high=high,
        user_id=user_id,
        status=filters.status or None,
        newest_first=filters.newest_first,
        limit=limit,
        cursor=cursor,
    )


def _csv_line(cells: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([csv_cell(cell) for cell in cells])
    return out.getvalue()


def csv_row(order: Order, customer: User | None) -> list[object]:
    address = order.shipping_address
    return [
        order.order_id,
        order.created_at,
        order.status,
        customer.name if customer else "",
        customer.email if customer else "",
        order.user_id,
        sum(line.quantity for line in order.items),
        order.subtotal,
        order.tax,
        order.total_amount,
        order.currency,
        address.name,
        address.phone,
        address.city,
        address.postal_code,
    ]


async def export_csv(
    backends: Backends,
    filters: OrderFilters,
    *,
    max_rows: int = EXPORT_MAX_ROWS,
    zone: tzinfo | None = None,
) -> AsyncIterator[str]:
    """The orders matching `filters` as CSV text, in pieces as they are read: a UTF-8 BOM
    (so spreadsheets read the names right), a header line, then a line per order, at most
    `max_rows`. Amounts are whole rupiah as bare integers; a text cell a spreadsheet would
    take for a formula starts with `'`."""
    zone = zone or shop_zone(backends)
    yield BOM + _csv_line(CSV_COLUMNS)
    cursor: str | None = None
    written = 0
    while written < max_rows:
        orders, cursor = await _find(
            backends, filters, zone, min(EXPORT_PAGE, max_rows - written), cursor
        )
        if orders:
            people = await backends.users.by_ids(order.user_id for order in orders)
            yield "".join(_csv_line(csv_row(o, people.get(o.user_id))) for o in orders)
            written += len(orders)
        if not cursor:
            return


def export_filename(filters: OrderFilters) -> str:
    """`orders[-status][-from][-to].csv`: only characters safe in a header."""
    parts = ["orders"]
    if filters.status:
        parts.append(filters.status)
    if filters.date_from:
        parts.append("from-" + filters.date_from.isoformat())
    if filters.date_to:
        parts.append("to-" + filters.date_to.isoformat())
    return "-".join(parts) + ".csv"
