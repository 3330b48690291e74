"""How an admin finds orders: the filters (an order id or a customer's email, a status, a
date range, newest or oldest first), parsed and bounded once for the pages, the JSON API and
the CSV export; the order-id range a date range is; and a spreadsheet-safe CSV cell.

Order ids are `ORD-` + a ULID, whose first 10 characters are its millisecond timestamp: the
orders placed between two moments are exactly the ids between two strings, so a date range is
a range condition on the sort key of whichever index answers (see `stores/orders.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from ulid import ULID

from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.orders import ORDER_PREFIX, STATUSES

NEWEST, OLDEST = "newest", "oldest"
SORTS = (NEWEST, OLDEST)
# An email is at most 254 characters; an order id is 30.
MAX_SEARCH_CHARS = 254
ORDER_ID = re.compile(re.escape(ORDER_PREFIX) + "[0-9A-Z]{26}")
# The first and last possible order ids (Crockford base32: `0` is the lowest, `Z` the highest).
LOWEST_ORDER_ID = ORDER_PREFIX + "0" * 26
HIGHEST_ORDER_ID = ORDER_PREFIX + "Z" * 26
# A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# What `q` searches by; NOTHING: text a lenient (page) parse kept that is neither.
BY_ORDER_ID, BY_EMAIL, EVERYONE, NOTHING = "order_id", "email", "everyone", "nothing"


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """What an admin asked for; every field already checked. `q` is an order id (upper
    case) or an email; `date_from`/`date_to` are calendar days in the shop's time zone, both
    included."""

    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = NEWEST

    @property
    def search_by(self) -> str:
        if not self.q:
            return EVERYONE
        if not is_searchable(self.q):
            return NOTHING
        return BY_ORDER_ID if self.q.startswith(ORDER_PREFIX) else BY_EMAIL

    @property
    def newest_first(self) -> bool:
        return self.sort != OLDEST

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (empty ones and the default sort left out)."""
        params = {
            "q": self.q,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": "" if self.sort == NEWEST else self.sort,
        }
        return {key: value for key, value in params.items() if value}

    def id_range(self, zone: tzinfo) -> tuple[str, str]:
        """The smallest and largest order id placed within the date range (days in `zone`)."""
        low = LOWEST_ORDER_ID
        high = HIGHEST_ORDER_ID
        if self.date_from:
            low = _id_at(datetime.combine(self.date_from, time(), zone), "0")
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), zone)
            high = _id_at(end - timedelta(milliseconds=1), "Z")
        return low, high

    def matches(self, order_id: str, status: str, zone: tzinfo) -> bool:
        """Whether one order (found by its id) passes the other filters."""
        low, high = self.id_range(zone)
        return low <= order_id <= high and (not self.status or status == self.status)

    def without_search(self) -> OrderFilters:
        return replace(self, q="")


def _id_at(moment: datetime, fill: str) -> str:
    return ORDER_PREFIX + str(ULID.from_timestamp(moment.timestamp()))[:10] + fill * 16


def parse_filters(args: Mapping[str, str | None], *, lenient: bool = False) -> OrderFilters:
    """The filters from query parameters `q`, `status`, `from`, `to`, `sort`. Unknown or
    malformed values are a 400 (`InvalidInput` naming the field), or with `lenient` (the
    HTML pages: a hand-edited URL) left out."""

    def refuse(field: str, message: str) -> None:
        if not lenient:
            raise InvalidInput(message, code=ErrorCode.INVALID, field=field)

    q = " ".join(str(args.get("q") or "").split())
    if not q.isprintable():
        if not lenient:
            raise InvalidInput(
                "q must not contain control characters",
                code=ErrorCode.CONTROL_CHARACTERS,
                field="q",
            )
        q = "".join(char for char in q if char.isprintable())
    if len(q) > MAX_SEARCH_CHARS:
        if not lenient:
            raise InvalidInput(
                f"q must be at most {MAX_SEARCH_CHARS} characters",
                code=ErrorCode.TOO_LONG,
                field="q",
            )
        q = q[:MAX_SEARCH_CHARS]
    if q.upper().startswith(ORDER_PREFIX):
        q = q.upper()
    if not is_searchable(q):
        # A lenient parse keeps the text, so the page can say what it cannot search.
        refuse("q", "q must be an order id (ORD- and 26 letters or digits) or an email")

    status = str(args.get("status") or "")
    if status and status not in STATUSES:
        refuse("status", f"status must be one of: {', '.join(STATUSES)}")
        status = ""

    sort = str(args.get("sort") or NEWEST)
    if sort not in SORTS:
        refuse("sort", f"sort must be one of: {', '.join(SORTS)}")
        sort = NEWEST

    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = str(args.get(name) or "").strip()
        days[name] = None
        if not text:
            continue
        try:
            days[name] = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            days[name] = None
        if days[name] is None:
            refuse(name, f"{name} must be a date as YYYY-MM-DD")
    date_from, date_to = days["from"], days["to"]
    if date_from and date_to and date_to < date_from:
        refuse("to", "to must not be before from")
        date_to = None
    return OrderFilters(q=q, status=status, date_from=date_from, date_to=date_to, sort=sort)


def is_searchable(q: str) -> bool:
    """Whether `q` is something the search can answer: nothing, an order id of the right
    shape, or an email."""
    if not q:
        return True
    if q.startswith(ORDER_PREFIX):
        return ORDER_ID.fullmatch(q) is not None
    return "@" in q and " " not in q


def csv_cell(value: object) -> str:
    """One CSV cell: amounts as bare integers (whole rupiah), text as it is unless a
    spreadsheet would run it as a formula — then with a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(int(value))
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
