"""Customers: the list (search by name or email, newest first, paged by cursor), one
customer's page (profile, saved address, orders, total spent, account state), and the
account actions an operator also has on the CLI: disable, enable, change role (audited; an
admin cannot disable or demote themselves).

The search answers htmx with the `results` block of `admin/customers.html`; without
JavaScript the same URL is a whole page. The actions are plain forms that go back to the
customer's page with a notice."""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Blueprint, g, request, url_for

from cloudstore.domain.accounts import ROLES
from cloudstore.domain.errors import Conflict, ErrorCode, NotFound
from cloudstore.shop import customers as customer_use_cases
from cloudstore.shop.customers import MAX_CUSTOMER_QUERY
from cloudstore.web.admin.common import back_to
from cloudstore.web.html.listing import listing_url
from cloudstore.web.html.responses import go, notify, page
from cloudstore.web.session import backends

bp = Blueprint("customers", __name__, url_prefix="/customers")
PAGE_SIZE = 20
ORDERS_PAGE_SIZE = 10


def list_url(q: str = "", cursor: str | None = None) -> str:
    return listing_url("admin.customers.index", {"q": q}, cursor)


@bp.get("")
async def index():
    q = customer_use_cases.clean_query(request.args.get("q"))
    found = await customer_use_cases.search(
        backends(),
        q,
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
        restart_on_bad_cursor=True,
    )
    return await page(
        "admin/customers.html",
        ["results"],
        customers=found.users,
        q=q,
        max_query=MAX_CUSTOMER_QUERY,
        next_url=list_url(q, found.next_cursor) if found.next_cursor else None,
        first_url=list_url(q),
        continued=bool(found.cursor),
    )


def customer_url(user_id: str, cursor: str | None = None) -> str:
    url = url_for("admin.customers.detail", user_id=user_id)
    return url + ("?" + urlencode({"cursor": cursor}) if cursor else "")


async def _customer(user_id: str, cursor: str | None):
    try:
        return await customer_use_cases.customer(
            backends(), user_id, limit=ORDERS_PAGE_SIZE, cursor=cursor
        )
    except NotFound:
        raise NotFound(
            "We could not find that customer.", code=ErrorCode.ACCOUNT_NOT_FOUND
        ) from None


@bp.get("/<user_id>")
async def detail(user_id: str):
    found = await _customer(user_id, request.args.get("cursor") or None)
    return await page(
        "admin/customer.html",
        customer=found.user,
        totals=found.totals,
        orders=found.orders,
        next_url=customer_url(user_id, found.next_cursor) if found.next_cursor else None,
        first_url=customer_url(user_id),
        continued=bool(found.cursor),
        is_self=found.user.user_id == g.user.user_id,
        roles=ROLES,
        here=customer_url(user_id, found.cursor),
    )


async def _act(user_id: str, action) -> object:
    data = await request.form
    back = back_to(data, customer_url(user_id))
    try:
        text = await action(data)
    except Conflict as error:
        return notify(go(back), error.sentence(), "error")
    except NotFound:
        raise NotFound(
            "We could not find that customer.", code=ErrorCode.ACCOUNT_NOT_FOUND
        ) from None
    return notify(go(back), text)


@bp.post("/<user_id>/disable")
async def disable(user_id: str):
    async def action(_data) -> str:
        user = await customer_use_cases.set_disabled(backends(), g.user, user_id, True)
        return f"{user.email} is disabled: their sessions have ended."

    return await _act(user_id, action)


@bp.post("/<user_id>/enable")
async def enable(user_id: str):
    async def action(_data) -> str:
        user = await customer_use_cases.set_disabled(backends(), g.user, user_id, False)
        return f"{user.email} is enabled: they may log in again."

    return await _act(user_id, action)


@bp.post("/<user_id>/role")
async def role(user_id: str):
    async def action(data) -> str:
        user = await customer_use_cases.set_role(
            backends(), g.user, user_id, str(data.get("role", ""))
        )
        return f"{user.email} is now {'an' if user.role == 'admin' else 'a'} {user.role}."

    return await _act(user_id, action)
