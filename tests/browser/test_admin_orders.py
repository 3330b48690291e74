"""The admin's customers and order search in real Chromium: find a customer by name and open
their page; find an order by the customer's email, filter it by status, and download what
the filters select as CSV. Both pages pass axe-core."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.test_admin import ADDRESS, admin, log_in  # noqa: F401 - the admin fixture
from tests.browser.test_storefront import axe_violations


def customer_with_an_order(page, name: str) -> tuple[str, str]:
    """A new customer (through the JSON API) with one pending order: (email, order id)."""
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    registered = page.request.post(
        "/api/auth/register", data={"name": name, "email": email, "password": "rahasia1"}
    )
    assert registered.status == 201, registered.text()
    placed = page.request.post(
        "/api/orders",
        headers={"Authorization": f"Bearer {registered.json()['token']}"},
        data={
            "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
            "shipping_address": ADDRESS,
        },
    )
    assert placed.status == 201, placed.text()
    return email, placed.json()["data"]["order_id"]


def test_admin_finds_a_customer_by_name_and_sees_their_orders(page, admin):  # noqa: F811
    log_in(page, *admin)
    tag = uuid.uuid4().hex[:6]
    name = f"Intan Permata{tag}"
    email, order_id = customer_with_an_order(page, name)

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    page.wait_for_load_state("load")  # htmx set up before typing
    page.get_by_label("Name or email").fill(f"permata{tag}")
    # htmx swaps the results in as you type; the URL follows.
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/admin/customers\?q=permata{tag}$"))
    assert not axe_violations(page)

    results.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(".profile")).to_contain_text(email)
    expect(page.get_by_role("link", name=order_id)).to_be_visible()
    expect(page.get_by_role("button", name="Disable account")).to_be_visible()
    assert not axe_violations(page)


def test_admin_searches_orders_by_email_filters_by_status_and_exports(page, admin):  # noqa: F811
    log_in(page, *admin)
    email, order_id = customer_with_an_order(page, "Yudi Export")
    customer_with_an_order(page, "Someone Else")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Orders").click()
    expect(page).to_have_url(re.compile(r"/admin/orders$"))
    page.wait_for_load_state("load")  # htmx set up before typing
    page.get_by_label("Order id or customer email").fill(email)
    results = page.locator("#order-results")
    expect(results.locator("tr.order-line")).to_have_count(1)
    row = results.locator(f"#order-{order_id}")
    expect(row).to_contain_text("Yudi Export")
    expect(row).to_contain_text(email)

    page.get_by_label("Status").select_option(label="Awaiting payment")
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect(results.locator(f"#order-{order_id}")).to_be_visible()
    page.get_by_label("Status").select_option("paid")
    expect(results.locator(".empty-state")).to_contain_text("No orders match these filters")
    assert not axe_violations(page)

    page.get_by_label("Status").select_option("pending")
    expect(results.locator(f"#order-{order_id}")).to_be_visible()
    export = results.get_by_role("link", name="Export CSV")
    href = export.get_attribute("href")
    assert href and href.startswith("/admin/orders.csv?") and "status=pending" in href
    with page.expect_download() as downloading:
        export.click()
    download = downloading.value
    content = open(download.path(), "rb").read()  # noqa: PTH123, SIM115
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("order_id,placed_at,status,customer_name,customer_email")
    assert len(lines) == 2 and lines[1].startswith(f"{order_id},")
    assert "Yudi Export" in lines[1] and email in lines[1]
