"""The admin's order filters: parsed and bounded once; a date range is an order-id range;
CSV cells are safe to open in a spreadsheet."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from ulid import ULID

from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.order_search import (
    BY_EMAIL,
    BY_ORDER_ID,
    EVERYONE,
    NOTHING,
    OLDEST,
    OrderFilters,
    csv_cell,
    parse_filters,
)

ORDER_ID = "ORD-01J9Z3K4M5N6P7Q8R9S0T1V2W3"

SHOP_TZ = ZoneInfo("Asia/Jakarta")  # the default SHOP_TIMEZONE


def order_id_at(moment: datetime) -> str:
    return "ORD-" + str(ULID.from_timestamp(moment.timestamp()))


def test_all_filters_parse_into_one_value():
    filters = parse_filters(
        {
            "q": " Sari@Example.com ",
            "status": "paid",
            "from": "2026-01-02",
            "to": "2026-01-31",
            "sort": "oldest",
        }
    )
    assert filters == OrderFilters(
        q="Sari@Example.com",
        status="paid",
        date_from=date(2026, 1, 2),
        date_to=date(2026, 1, 31),
        sort=OLDEST,
    )
    assert filters.search_by == BY_EMAIL and not filters.newest_first


def test_an_order_id_is_searched_by_id_in_any_letter_case():
    filters = parse_filters({"q": ORDER_ID.lower()})
    assert (filters.q, filters.search_by) == (ORDER_ID, BY_ORDER_ID)


def test_no_filters_mean_every_order_newest_first():
    filters = parse_filters({})
    assert filters == OrderFilters() and filters.search_by == EVERYONE and filters.newest_first


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"q": "ORD-123"}, "q"),
        ({"q": "just a name"}, "q"),
        ({"q": "a\x00@example.com"}, "q"),
        ({"q": "x" * 250 + "@example.com"}, "q"),
        ({"status": "lost"}, "status"),
        ({"sort": "price"}, "sort"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-01-01T00:00"}, "to"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_malformed_filters_are_refused_naming_the_field(args, field):
    with pytest.raises(InvalidInput) as refused:
        parse_filters(args)
    assert refused.value.field == field


def test_a_lenient_parse_drops_bad_values_but_keeps_unsearchable_text():
    filters = parse_filters(
        {"q": "Sari", "status": "lost", "sort": "x", "from": "nope", "to": "2026-01-01"},
        lenient=True,
    )
    assert filters == OrderFilters(q="Sari", date_to=date(2026, 1, 1))
    assert filters.search_by == NOTHING


def test_the_date_range_covers_whole_days_in_the_shops_time_zone():
    low, high = OrderFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2)).id_range(SHOP_TZ)
    # 1 March 00:00 WIB is 29 February 17:00 UTC (2026 is not a leap year: 28 Feb).
    first = order_id_at(datetime(2026, 2, 28, 17, 0, tzinfo=UTC))
    just_before = order_id_at(datetime(2026, 2, 28, 16, 59, 59, 999000, tzinfo=UTC))
    last = order_id_at(datetime(2026, 3, 2, 16, 59, 59, 999000, tzinfo=UTC))
    just_after = order_id_at(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    assert low <= first <= high and low <= last <= high
    assert not low <= just_before <= high and not low <= just_after <= high


def test_an_open_range_reaches_every_order_id_and_nothing_else():
    low, high = OrderFilters().id_range(SHOP_TZ)
    assert low <= ORDER_ID <= high
    assert not low <= "COUNTER#pending_orders" <= high
    assert not low <= "IDEM#x" <= high


def test_one_order_matches_the_status_and_the_range():
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    order_id = order_id_at(moment)
    march = OrderFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 1), status="paid")
    assert march.matches(order_id, "paid", SHOP_TZ)
    assert not march.matches(order_id, "pending", SHOP_TZ)
    assert not OrderFilters(date_from=date(2026, 3, 2)).matches(order_id, "paid", SHOP_TZ)


def test_the_filters_round_trip_through_their_query_parameters():
    filters = OrderFilters(q="a@b.co", status="shipped", date_from=date(2026, 1, 1), sort=OLDEST)
    assert filters.as_params() == {
        "q": "a@b.co",
        "status": "shipped",
        "from": "2026-01-01",
        "sort": "oldest",
    }
    assert parse_filters(filters.as_params()) == filters
    assert OrderFilters().as_params() == {}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("1250000"), "1250000"),
        (Decimal("1250000.00"), "1250000"),
        (3, "3"),
        (None, ""),
        ("Sari Dewi", "Sari Dewi"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+62 812", "'+62 812"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("a=1", "a=1"),
    ],
)
def test_csv_cells_are_integers_or_text_no_spreadsheet_runs(value, cell):
    assert csv_cell(value) == cell
