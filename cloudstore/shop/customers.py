"""Customers as an admin sees them: the list (search by name or email, newest first, paged),
one customer with their orders and totals, and what an admin may do to an account (disable,
enable, change its role) — the same rules as the operator's CLI (`shop.accounts`), audited,
and never to the admin's own account.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudstore.backends import Backends
from cloudstore.domain.accounts import User
from cloudstore.domain.customers import CustomerTotals, customer_totals
from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.orders import Order
from cloudstore.shop import accounts, audit

# The longest search text (a name is at most 255 characters, an email 254).
MAX_CUSTOMER_QUERY = 100


@dataclass(frozen=True, slots=True)
class CustomerPage:
    users: list[User]
    next_cursor: str | None
    cursor: str | None  # the cursor actually used (None when a bad one was dropped)


@dataclass(frozen=True, slots=True)
class Customer:
    user: User
    totals: CustomerTotals
    orders: list[Order]
    next_cursor: str | None
    cursor: str | None


def clean_query(q: object) -> str:
    """The search text: whitespace collapsed, control characters left out, at most
    MAX_CUSTOMER_QUERY characters."""
    text = " ".join(str(q or "").split())
    return "".join(char for char in text if char.isprintable())[:MAX_CUSTOMER_QUERY]


async def search(
    backends: Backends,
    q: str,
    *,
    limit: int,
    cursor: str | None = None,
    restart_on_bad_cursor: bool = False,
) -> CustomerPage:
    """Accounts whose name or email contains `q`, newest first, one page."""
    q = clean_query(q)
    try:
        users, next_cursor = await backends.users.search(q, limit=limit, cursor=cursor)
    except InvalidInput as error:
        if not restart_on_bad_cursor or error.code != ErrorCode.INVALID_CURSOR:
            raise
        cursor = None
        users, next_cursor = await backends.users.search(q, limit=limit)
    return CustomerPage(users=users, next_cursor=next_cursor, cursor=cursor)


def _not_found() -> NotFound:
    return NotFound("customer not found", code=ErrorCode.ACCOUNT_NOT_FOUND)


async def account(backends: Backends, user_id: str) -> User:
    user = await backends.users.by_id(user_id) if len(user_id) <= 50 else None
    if user is None:
        raise _not_found()
    return user


async def customer(
    backends: Backends, user_id: str, *, limit: int, cursor: str | None = None
) -> Customer:
    """One customer: the account, how many orders and how much spent, and a page of their
    orders (newest first; a stale or edited cursor starts from the newest)."""
    user = await account(backends, user_id)
    summaries = await backends.orders.summaries_for_user(user_id)
    try:
        orders, next_cursor = await backends.orders.list_for_user(
            user_id, limit=limit, cursor=cursor
        )
    except InvalidInput:
        cursor = None
        orders, next_cursor = await backends.orders.list_for_user(user_id, limit=limit)
    return Customer(
        user=user,
        totals=customer_totals(summaries),
        orders=orders,
        next_cursor=next_cursor,
        cursor=cursor,
    )


def _not_yourself(admin: User, user: User, what: str) -> None:
    if admin.user_id == user.user_id:
        raise Conflict(f"you cannot {what} your own account", code=ErrorCode.OWN_ACCOUNT)


async def set_disabled(backends: Backends, admin: User, user_id: str, disabled: bool) -> User:
    """Disable (its sessions end) or enable an account; audited. Not the admin's own."""
    user = await account(backends, user_id)
    if disabled:
        _not_yourself(admin, user, "disable")
        changed = await accounts.disable_account(backends, user)
    else:
        changed = await accounts.enable_account(backends, user)
    audit.record(
        admin.user_id,
        "disable_user" if disabled else "enable_user",
        user_id,
        {"disabled": user.is_disabled},
        {"disabled": changed.is_disabled},
    )
    return changed


async def set_role(backends: Backends, admin: User, user_id: str, role: str) -> User:
    """Make an account an admin or a customer; audited. An admin cannot demote themselves."""
    user = await account(backends, user_id)
    if role != user.role:
        _not_yourself(admin, user, "change the role of")
    changed = await accounts.set_account_role(backends, user, role)
    audit.record(admin.user_id, "set_role", user_id, {"role": user.role}, {"role": changed.role})
    return changed
