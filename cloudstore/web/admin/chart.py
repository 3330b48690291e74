"""The dashboard's sales numbers and the geometry of its bar chart (server-rendered SVG).

Pure functions: orders in, per-day totals and bar rectangles out. The template draws the
`<svg>` with presentation attributes only (x, y, width, height) — no inline style, no script —
so it passes the Content-Security-Policy and needs no chart library in the browser.

Days are calendar days in the shop's time zone (`SHOP_TIMEZONE`; by default Asia/Jakarta,
WIB, UTC+7 all year: Indonesia has no daylight saving time). Each function takes the zone,
defaulting to WIB.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal

from cloudstore.domain.orders import CANCELLED, OrderSummary
from cloudstore.money import format_idr

SHOP_TZ = timezone(timedelta(hours=7), "WIB")
DAYS = 14

GRID_STEPS = 4
BAR_FILL = 0.64  # of each day's slot


@dataclass(frozen=True, slots=True)
class Layout:
    """A drawing's size and margins, in viewBox units (the SVG scales to its container)."""

    width: int
    height: int
    left: int  # room for the axis labels
    right: int
    top: int
    bottom: int  # room for the day labels

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


# Two drawings of the same figures: the page shows the wide one on large screens and the
# narrow one on phones (CSS), so the labels stay readable at both sizes.
WIDE = Layout(width=960, height=280, left=84, right=8, top=14, bottom=30)
NARROW = Layout(width=360, height=230, left=58, right=4, top=12, bottom=28)


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    orders: int
    revenue: Decimal
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label: str  # day of the month, under the bar
    title: str  # the full figure, shown on hover and read by assistive technology
    today: bool


@dataclass(frozen=True, slots=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    baseline: float
    label_y: float
    bars: list[Bar]
    grid: list[GridLine]
    summary: str


def shop_today(now: datetime | None = None, zone: tzinfo = SHOP_TZ) -> date:
    return (now or datetime.now(zone)).astimezone(zone).date()


def window_start(today: date, days: int = DAYS, zone: tzinfo = SHOP_TZ) -> datetime:
    """Midnight (in the shop's zone) of the first day of the window that ends today."""
    return datetime.combine(today - timedelta(days=days - 1), time(0), zone)


def _order_day(order: OrderSummary, zone: tzinfo) -> date | None:
    raw = order.created_at
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def daily_sales(
    orders: Iterable[OrderSummary], today: date, days: int = DAYS, zone: tzinfo = SHOP_TZ
) -> list[DaySales]:
    """Orders and revenue per day (oldest first); cancelled orders count apart, not as sales."""
    first = today - timedelta(days=days - 1)
    window = [first + timedelta(days=n) for n in range(days)]
    placed, cancelled = dict.fromkeys(window, 0), dict.fromkeys(window, 0)
    revenue = dict.fromkeys(window, Decimal(0))
    for order in orders:
        day = _order_day(order, zone)
        if day is None or day not in placed:
            continue
        if order.status == CANCELLED:
            cancelled[day] += 1
        else:
            placed[day] += 1
            revenue[day] += order.total_amount
    return [DaySales(day, placed[day], revenue[day], cancelled[day]) for day in window]


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `value` (a round top for the axis)."""
    if value <= 0:
        return Decimal(1_000_000)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if magnitude * factor >= value:
            return magnitude * factor
    return magnitude * 10  # pragma: no cover - the loop always returns


def compact_idr(amount: Decimal) -> str:
    """`Rp 1,5 jt` style axis labels (rb = ribu, jt = juta, M = miliar)."""
    amount = Decimal(amount)
    for size, unit in ((Decimal(10) ** 9, "M"), (Decimal(10) ** 6, "jt"), (Decimal(1000), "rb")):
        if amount >= size:
            number = (amount / size).quantize(Decimal("0.1")).normalize()
            return f"Rp {format(number, 'f').replace('.', ',')} {unit}"
    return f"Rp {int(amount)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(day: DaySales) -> str:
    text = f"{day.day:%a %d %b}: {_plural(day.orders, 'order')}, {format_idr(day.revenue)}"
    if day.cancelled:
        text += f" ({day.cancelled} cancelled)"
    return text


def bar_chart(days: Sequence[DaySales], today: date, layout: Layout = WIDE) -> Chart:
    top = nice_ceiling(max((d.revenue for d in days), default=Decimal(0)))
    plot_w, plot_h, left = layout.plot_width, layout.plot_height, layout.left
    slot = plot_w / max(len(days), 1)
    width = round(slot * BAR_FILL, 2)
    baseline = layout.top + plot_h
    bars = []
    for position, day in enumerate(days):
        height = float(day.revenue / top) * plot_h if top else 0.0
        if day.revenue > 0:
            height = max(height, 2.0)  # a sale is always visible
        x = left + position * slot + (slot - width) / 2
        bars.append(
            Bar(
                x=round(x, 2),
                y=round(baseline - height, 2),
                width=width,
                height=round(height, 2),
                label_x=round(x + width / 2, 2),
                label=str(day.day.day),
                title=describe(day),
                today=day.day == today,
            )
        )
    grid = [
        GridLine(
            y=round(baseline - plot_h * step / GRID_STEPS, 2),
            label=compact_idr(top * step / GRID_STEPS) if step else "0",
        )
        for step in range(GRID_STEPS + 1)
    ]
    total = sum((d.revenue for d in days), Decimal(0))
    orders = sum(d.orders for d in days)
    best = max(days, key=lambda d: d.revenue, default=None)
    summary = f"{_plural(orders, 'order')}, {format_idr(total)} in {len(days)} days"
    if best is not None and best.revenue > 0:
        summary += f"; best day {best.day:%d %b} with {format_idr(best.revenue)}"
    return Chart(
        width=layout.width,
        height=layout.height,
        left=left,
        right=layout.width - layout.right,
        baseline=baseline,
        label_y=baseline + 20,
        bars=bars,
        grid=grid,
        summary=summary + ".",
    )
