"""Times are stored in UTC and shown in the shop's time zone (SHOP_TIMEZONE, Asia/Jakarta by
default) with its abbreviation: WIB, WITA, WIT for Indonesia's zones, else the zone's own."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cloudstore import create_app
from cloudstore.domain.orders import OrderSummary
from cloudstore.domain.shop_time import shop_clock, time_left
from cloudstore.settings import Settings, SettingsError
from cloudstore.web.admin import chart
from cloudstore.web.html.template_filters import when
from tests.helpers import place_order as place
from tests.helpers import register

MOMENT = "2026-12-01T07:05:00.000Z"


def test_a_stored_utc_time_is_shown_in_jakarta_time_as_wib():
    assert shop_clock("Asia/Jakarta").when(MOMENT) == "1 Dec 2026, 14:05 WIB"


def test_the_day_changes_with_the_shop_zone_not_utc():
    assert shop_clock("Asia/Jakarta").when("2026-11-30T20:30:00Z") == "1 Dec 2026, 03:30 WIB"


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Pontianak", "1 Dec 2026, 14:05 WIB"),
        ("Asia/Makassar", "1 Dec 2026, 15:05 WITA"),
        ("Asia/Jayapura", "1 Dec 2026, 16:05 WIT"),
        ("Europe/Berlin", "1 Dec 2026, 08:05 CET"),
        ("Asia/Singapore", "1 Dec 2026, 15:05 UTC+8"),
        ("Asia/Kolkata", "1 Dec 2026, 12:35 IST"),
        ("Asia/Kathmandu", "1 Dec 2026, 12:50 UTC+5:45"),
        ("UTC", "1 Dec 2026, 07:05 UTC"),
    ],
)
def test_other_zones_show_their_own_abbreviation(zone, shown):
    assert shop_clock(zone).when(MOMENT) == shown


def test_summer_time_shows_the_summer_abbreviation():
    assert shop_clock("Europe/Berlin").when("2026-07-01T07:05:00Z") == "1 Jul 2026, 09:05 CEST"


def test_text_that_is_not_a_time_is_shown_as_it_is():
    assert shop_clock().when("soon") == "soon"


def test_a_naive_time_is_read_as_utc():
    assert shop_clock().when("2026-12-01T07:05:00") == "1 Dec 2026, 14:05 WIB"


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (timedelta(days=2, hours=3, minutes=5), "2 d 3 h"),
        (timedelta(hours=23, minutes=12, seconds=40), "23 h 12 min"),
        (timedelta(minutes=12, seconds=5), "12 min"),
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(seconds=-1), ""),
    ],
)
def test_time_left_is_counted_down_in_days_hours_and_minutes(left, text):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert time_left((now + left).isoformat(), now) == text


def test_the_setting_is_read_from_the_environment():
    settings = Settings.from_env({"SHOP_TIMEZONE": "Asia/Makassar"}, env_file=None)
    assert settings.shop_timezone == "Asia/Makassar"
    assert Settings.from_env({}, env_file=None).shop_timezone == "Asia/Jakarta"


def test_an_unknown_time_zone_is_refused_at_start():
    with pytest.raises(SettingsError, match="SHOP_TIMEZONE"):
        Settings(shop_timezone="Asia/Atlantis", jwt_secret_key="x").validate()


def test_the_apps_when_filter_uses_the_configured_zone(settings):
    app = create_app(settings.with_overrides(shop_timezone="Asia/Jayapura"))
    assert app.jinja_env.filters["when"](MOMENT) == "1 Dec 2026, 16:05 WIT"


async def test_the_order_pages_show_times_in_wib(client, seeded):
    token = await register(client)
    order = await place(client, token)
    client.set_cookie("localhost", "cs_session", token)
    placed = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    local = placed.astimezone(shop_clock().zone)
    expected = f"{local.day} {local:%b %Y, %H:%M} WIB"
    for path in ("/orders", f"/orders/{order['order_id']}"):
        body = await (await client.get(path)).get_data(as_text=True)
        assert expected in body, path
        assert not re.search(r"\d{2}:\d{2} UTC", body), path


def test_the_dashboards_days_follow_the_shop_zone():
    # 15:30 UTC on the 13th: still the 13th in Jakarta (22:30 WIB), the 14th in Jayapura.
    order = OrderSummary("ORD-1", "USR-1", "2025-03-13T15:30:00.000Z", "paid", Decimal(1000))
    today = date(2025, 3, 14)
    in_jakarta = chart.daily_sales([order], today, 2, shop_clock("Asia/Jakarta").zone)
    in_jayapura = chart.daily_sales([order], today, 2, shop_clock("Asia/Jayapura").zone)
    assert [d.orders for d in in_jakarta] == [1, 0]
    assert [d.orders for d in in_jayapura] == [0, 1]


async def test_python_code_gets_the_same_text_as_the_filter(app):
    assert when(MOMENT) == "1 Dec 2026, 14:05 WIB"  # outside an app: the default zone
    async with app.app_context():
        assert when(MOMENT) == app.jinja_env.filters["when"](MOMENT)
