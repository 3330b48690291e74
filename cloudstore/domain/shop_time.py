"""The shop's own time zone: Asia/Jakarta (WIB, UTC+7 all year: Indonesia has no daylight
saving time). Calendar days on the admin pages (the dashboard's, the order filters') are
days here."""

from __future__ import annotations

from datetime import timedelta, timezone

SHOP_TZ = timezone(timedelta(hours=7), "WIB")
SHOP_TZ_NAME = "WIB (Asia/Jakarta, UTC+7)"
