"""/admin/customers: the list and its search (name or email, cursor pages), a customer's page
(profile, saved address, orders, total spent, account state) and the account actions
(disable, enable, role; audited, CSRF-protected, never on the admin's own account)."""

from __future__ import annotations

import logging
import re
import uuid
from html import unescape

import pytest

from cloudstore.shop.accounts import create_admin
from cloudstore.shop.catalog import load_products
from tests.helpers import (
    ADDRESS,
    ADMIN_PASSWORD,
    PASSWORD,
    bearer,
    place_order,
    register,
    unique_email,
)
from tests.helpers.pages import csrf_token, htmx, is_fragment, login, text
from tests.helpers.shared_app import app, settings  # noqa: F401 - one app per module


@pytest.fixture(scope="module", autouse=True)
async def seeded(app, seed_products):
    await load_products(app.extensions["cloudstore"], seed_products)


async def signed_up(app, name: str) -> tuple[object, str, str, str]:
    """A customer: (their client, token, email, user_id)."""
    client = app.test_client()
    email = unique_email("cust")
    token = await register(client, name=name, email=email)
    me = await (await client.get("/api/auth/verify", headers=bearer(token))).get_json()
    return client, token, email, me["user"]["user_id"]


async def admin_client(app, backends) -> tuple[object, str, str]:
    """An admin's browser: (client, CSRF token, the admin's user_id)."""
    client = app.test_client()
    email = unique_email("admin")
    user = await create_admin(backends, email=email, password=ADMIN_PASSWORD, name="Admin")
    await login(client, email, ADMIN_PASSWORD)
    return client, await csrf_token(client), user.user_id


def audit_records(caplog) -> list:
    return [r for r in caplog.records if r.name == "cloudstore.audit"]


async def test_the_admin_nav_links_to_customers(app, backends):
    admin, _, _ = await admin_client(app, backends)
    body = await text(await admin.get("/admin"))
    assert 'href="/admin/customers"' in body and "<span>Customers</span>" in body


async def test_search_finds_customers_by_part_of_the_name_or_the_email(app, backends):
    tag = uuid.uuid4().hex[:8]
    _, _, email, user_id = await signed_up(app, f"Rina Kusuma{tag}")
    _, _, _, other_id = await signed_up(app, "Someone Else")
    admin, _, _ = await admin_client(app, backends)
    by_name = await text(await admin.get("/admin/customers", query_string={"q": f"kusuma{tag}"}))
    assert f"/admin/customers/{user_id}" in by_name and other_id not in by_name
    by_email = await text(await admin.get("/admin/customers", query_string={"q": email.upper()}))
    assert f"/admin/customers/{user_id}" in by_email and email in by_email


async def test_like_wildcards_in_the_search_are_plain_characters(app, backends):
    await signed_up(app, "Percent Person")
    admin, _, _ = await admin_client(app, backends)
    for q in ("%", "_", "\\"):
        body = await text(await admin.get("/admin/customers", query_string={"q": q}))
        assert "No customer’s name or email contains" in body, q


async def test_control_characters_in_the_search_are_left_out(app, backends):
    tag = uuid.uuid4().hex[:8]
    _, _, _, user_id = await signed_up(app, f"Nul{tag}")
    admin, _, _ = await admin_client(app, backends)
    response = await admin.get("/admin/customers", query_string={"q": f"nul\x00{tag}"})
    assert response.status_code == 200 and user_id in await text(response)


async def test_an_overlong_search_is_cut_to_its_bound(app, backends):
    admin, _, _ = await admin_client(app, backends)
    response = await admin.get("/admin/customers", query_string={"q": "x" * 5000})
    body = await text(response)
    assert response.status_code == 200
    assert "x" * 100 in body and "x" * 101 not in body


async def test_the_list_pages_by_cursor_without_repeats(app, backends, monkeypatch):
    from cloudstore.web.admin import customers as admin_customers

    monkeypatch.setattr(admin_customers, "PAGE_SIZE", 2)
    tag = uuid.uuid4().hex[:8]
    ids = [(await signed_up(app, f"Pager {tag} {n}"))[3] for n in range(3)]
    admin, _, _ = await admin_client(app, backends)
    seen: list[str] = []
    url = f"/admin/customers?q={tag}"
    for _ in range(3):
        body = await text(await admin.get(url))
        seen += re.findall(r'id="customer-(USR-[A-Z0-9]+)"', body)
        more = re.search(r'aria-label="More customers"><a [^>]*href="([^"]+)"', body)
        if not more:
            break
        url = unescape(more.group(1))
    assert seen == ids[::-1]


async def test_a_bad_cursor_starts_from_the_first_page(app, backends):
    admin, _, _ = await admin_client(app, backends)
    response = await admin.get("/admin/customers", query_string={"cursor": "bm90LWpzb24"})
    assert response.status_code == 200


async def test_htmx_search_answers_with_the_results_only(app, backends):
    admin, token, _ = await admin_client(app, backends)
    response = await admin.get("/admin/customers", query_string={"q": "cust-"}, headers=htmx(token))
    body = await text(response)
    assert is_fragment(body) and body.strip().startswith('<section id="customer-results"')


async def test_the_customer_page_shows_profile_address_orders_and_total_spent(app, backends):
    shopper, token, email, user_id = await signed_up(app, "Dewi Lestari")
    saved = await shopper.put(
        "/api/user/address",
        json={**ADDRESS, "name": "Dewi Lestari", "address": "Jl. Melati 7", "city": "Bandung"},
        headers=bearer(token),
    )
    assert saved.status_code == 200, await saved.get_data(as_text=True)
    paid = await place_order(shopper, token, quantity=1)
    pending = await place_order(shopper, token, quantity=2)
    admin, csrf, _ = await admin_client(app, backends)
    confirmed = await admin.post(
        f"/admin/orders/{paid['order_id']}/payment",
        form={"reference": "TRF-1"},
        headers=htmx(csrf, current=f"/admin/orders/{paid['order_id']}"),
    )
    assert confirmed.status_code == 200, await text(confirmed)
    body = await text(await admin.get(f"/admin/customers/{user_id}"))
    assert "Dewi Lestari" in body and email in body
    assert "Jl. Melati 7" in body and "Bandung" in body
    assert paid["order_id"] in body and pending["order_id"] in body
    spent = re.search(r"Total spent.*?<dd>([^<]+)</dd>", body, re.S)
    assert spent and spent.group(1) == format_idr(paid["total_amount"])
    assert re.search(r"<dt>Orders</dt><dd>2</dd>", body)
    assert "Disable account" in body and "Active" in body


def format_idr(amount) -> str:
    from cloudstore.money import format_idr as idr

    return idr(amount)


async def test_an_unknown_customer_is_a_404_page(app, backends):
    admin, _, _ = await admin_client(app, backends)
    response = await admin.get("/admin/customers/USR-NOBODY")
    assert response.status_code == 404
    assert "could not find that customer" in await text(response)


async def test_disable_ends_the_customers_sessions_and_is_audited(app, backends, caplog):
    shopper, token, email, user_id = await signed_up(app, "To Disable")
    admin, csrf, admin_id = await admin_client(app, backends)
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        response = await admin.post(
            f"/admin/customers/{user_id}/disable",
            form={"csrf_token": csrf, "next": f"/admin/customers/{user_id}"},
            headers={"X-CSRF-Token": csrf},
        )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/customers/{user_id}"
    assert (await backends.users.by_id(user_id)).is_disabled
    login_reply = await shopper.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login_reply.status_code == 401
    [record] = audit_records(caplog)
    assert record.audit == {
        "who": admin_id,
        "action": "disable_user",
        "target": user_id,
        "before": {"disabled": False},
        "after": {"disabled": True},
    }
    page = await text(await admin.get(f"/admin/customers/{user_id}"))
    assert "is disabled" in page and "Enable account" in page


async def test_enable_lets_the_customer_log_in_again(app, backends, caplog):
    shopper, _, email, user_id = await signed_up(app, "To Enable")
    admin, csrf, _ = await admin_client(app, backends)
    for action in ("disable", "enable"):
        await admin.post(f"/admin/customers/{user_id}/{action}", headers={"X-CSRF-Token": csrf})
    login_reply = await shopper.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login_reply.status_code == 200


async def test_role_change_makes_an_admin_and_is_audited(app, backends, caplog):
    _, _, _, user_id = await signed_up(app, "Future Admin")
    admin, csrf, _ = await admin_client(app, backends)
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        response = await admin.post(
            f"/admin/customers/{user_id}/role",
            form={"role": "admin"},
            headers={"X-CSRF-Token": csrf},
        )
    assert response.status_code == 303
    assert (await backends.users.by_id(user_id)).role == "admin"
    [record] = audit_records(caplog)
    assert (record.audit["before"], record.audit["after"]) == (
        {"role": "customer"},
        {"role": "admin"},
    )


async def test_an_unknown_role_is_refused(app, backends):
    _, _, _, user_id = await signed_up(app, "Role Refused")
    admin, csrf, _ = await admin_client(app, backends)
    response = await admin.post(
        f"/admin/customers/{user_id}/role", form={"role": "owner"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 400
    assert (await backends.users.by_id(user_id)).role == "customer"


async def test_account_actions_need_the_csrf_token(app, backends):
    _, _, _, user_id = await signed_up(app, "Csrf Target")
    admin, _, _ = await admin_client(app, backends)
    response = await admin.post(f"/admin/customers/{user_id}/disable")
    assert response.status_code == 403
    assert not (await backends.users.by_id(user_id)).is_disabled


async def test_an_admin_cannot_disable_or_demote_themselves(app, backends, caplog):
    admin, csrf, admin_id = await admin_client(app, backends)
    page = await text(await admin.get(f"/admin/customers/{admin_id}"))
    assert "This is your own account" in page and "Disable account" not in page
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        disabled = await admin.post(
            f"/admin/customers/{admin_id}/disable", headers={"X-CSRF-Token": csrf}
        )
        demoted = await admin.post(
            f"/admin/customers/{admin_id}/role",
            form={"role": "customer"},
            headers={"X-CSRF-Token": csrf},
        )
    assert disabled.status_code == demoted.status_code == 303
    me = await backends.users.by_id(admin_id)
    assert not me.is_disabled and me.role == "admin"
    assert audit_records(caplog) == []
    notice = await text(await admin.get(f"/admin/customers/{admin_id}"))
    assert "You cannot" in notice and "your own account" in notice
