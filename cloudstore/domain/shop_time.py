"""The shop's clock: times are stored in UTC (ISO 8601) and shown in the shop's time zone
(`SHOP_TIMEZONE`, Asia/Jakarta by default) with its abbreviation: WIB, WITA and WIT for
Indonesia's three zones, else the zone's own (`CET`), or `UTC+8` where the zone has only an
offset. Pages (the `when` filter) and mail both show times through `ShopClock.when`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Jakarta"
# Indonesia's own names for its zones (Waktu Indonesia Barat / Tengah / Timur).
INDONESIAN_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def parse_utc(iso: object) -> datetime | None:
    """A stored time (ISO 8601, `Z` or an offset; a naive one is UTC), or None."""
    if isinstance(iso, datetime):
        moment = iso
    else:
        try:
            moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ShopClock:
    """The shop's time zone, as pages show times."""

    name: str
    zone: ZoneInfo

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def abbreviation(self, moment: datetime) -> str:
        known = INDONESIAN_ABBREVIATIONS.get(self.name)
        if known:
            return known
        local = self.local(moment)
        abbreviation = local.tzname() or ""
        if not abbreviation or abbreviation[0] in "+-":
            offset = local.utcoffset() or timedelta(0)
            return "UTC" + _offset(offset)
        return abbreviation

    def when(self, iso: object) -> str:
        """`1 Dec 2026, 14:05 WIB`; text that is not a time is shown as it is."""
        moment = parse_utc(iso)
        if moment is None:
            return str(iso)
        local = self.local(moment)
        return f"{local.day} {local:%b %Y, %H:%M} {self.abbreviation(moment)}"

    def label(self) -> str:
        """`WIB (Asia/Jakarta)`: the zone as a page names it."""
        now = datetime.now(UTC)
        return f"{self.abbreviation(now)} ({self.name})"


def _offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return "" if not minutes else f"{sign}{hours}" + (f":{rest:02d}" if rest else "")


@lru_cache(maxsize=8)
def shop_clock(name: str = DEFAULT_TIMEZONE) -> ShopClock:
    return ShopClock(name=name, zone=ZoneInfo(name))


def time_left(until: object, now: datetime | None = None) -> str:
    """How long until `until` (a stored time): `2 d 3 h`, `23 h 12 min`, `12 min`,
    `less than a minute`; "" once it has passed (or is not a time)."""
    moment = parse_utc(until)
    if moment is None:
        return ""
    remaining = moment - (now or datetime.now(UTC))
    if remaining <= timedelta(0):
        return ""
    minutes = int(remaining.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return "less than a minute"
