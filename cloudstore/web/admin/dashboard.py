"""The dashboard: today's orders and revenue, a 14-day sales chart (SVG drawn here), what
waits for an admin (orders awaiting payment and those expiring within a day counted on the
orders-by-status index), and the way to everything else.

"Today" is the calendar day in the shop's time zone (`SHOP_TIMEZONE`, WIB by default);
revenue is the sum of `total_amount` of the orders placed that day that are not cancelled.
The numbers come from one Query on the all-orders GSI from the first day of the window
(`OrderStore.list_since`), never a Scan.
"""

from __future__ import annotations

from decimal import Decimal

from quart import Blueprint, current_app

from cloudstore.domain.orders import PAID, PENDING
from cloudstore.shop import orders as order_use_cases
from cloudstore.shop.awaiting_payment import awaiting_payment
from cloudstore.shop.catalog import snapshot as catalog_snapshot
from cloudstore.web.admin.chart import (
    DAYS,
    NARROW,
    bar_chart,
    daily_sales,
    shop_today,
    window_start,
)
from cloudstore.web.admin.products import low_stock_count
from cloudstore.web.html.responses import page
from cloudstore.web.html.template_filters import app_clock
from cloudstore.web.session import backends

bp = Blueprint("dashboard", __name__)
RECENT = 5


@bp.get("")
async def index():
    clock = app_clock(current_app)
    today = shop_today(zone=clock.zone)
    orders = await order_use_cases.list_since(backends(), window_start(today, DAYS, clock.zone))
    days = daily_sales(orders, today, DAYS, clock.zone)
    waiting = {
        PENDING: sum(1 for o in orders if o.status == PENDING),
        PAID: sum(1 for o in orders if o.status == PAID),
    }
    unpaid = await awaiting_payment(backends())
    recent, _, _ = await order_use_cases.list_all(backends(), limit=RECENT)
    snapshot = await catalog_snapshot(backends())
    return await page(
        "admin/dashboard.html",
        today=days[-1],
        days=days,
        chart=bar_chart(days, today),
        narrow_chart=bar_chart(days, today, NARROW),
        window_total=sum((d.revenue for d in days), Decimal(0)),
        window_orders=sum(d.orders for d in days),
        waiting=waiting,
        unpaid=unpaid,
        recent=recent,
        low_stock=low_stock_count(snapshot),
        product_count=len(snapshot),
        threshold=backends().settings.low_stock_threshold,
        tz_name=clock.label(),
        span=DAYS,
    )
