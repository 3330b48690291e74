"""The admin console in real Chromium: create a product that then shows in the catalog, change
its stock inline, run orders through their lifecycle, and pass axe-core on every admin page
(with screenshots at 375 and 1280 px).

The admin is made with `python -m cloudstore create-admin` against the server's own data
dir and database (the `server_env` fixture). Every test fails on a console error."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, SCREENSHOTS
from tests.browser.test_storefront import axe_violations

ADMIN_PASSWORD = "admin-browser-1"  # noqa: S105
ADDRESS = {
    "name": "Budi Santoso",
    "phone": "+62 812 3456 7890",
    "address": "Jl. Sudirman No. 1",
    "city": "Jakarta",
    "postal_code": "10220",
}


@pytest.fixture(scope="module")
def admin(server_env) -> tuple[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    done = subprocess.run(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "cloudstore",
            "create-admin",
            "--email",
            email,
            "--password-stdin",
            "--name",
            "Browser Admin",
        ],
        cwd=ROOT,
        env=server_env,
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is an admin" in done.stdout
    return email, ADMIN_PASSWORD


def log_in(page, email: str, password: str) -> None:
    page.goto("/login?next=/admin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def place_order(page, product_id: str = "PROD-LAMBDA-10M", quantity: int = 1) -> str:
    """A customer's order, placed through the JSON API (the admin's cookie is not used:
    the Bearer token wins)."""
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    registered = page.request.post(
        "/api/auth/register", data={"name": "Buyer", "email": email, "password": "rahasia1"}
    )
    assert registered.status == 201, registered.text()
    token = registered.json()["token"]
    placed = page.request.post(
        "/api/orders",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "items": [{"product_id": product_id, "quantity": quantity}],
            "shipping_address": ADDRESS,
        },
    )
    assert placed.status == 201, placed.text()
    return placed.json()["data"]["order_id"]


def stock_cell(page, name: str):
    return page.locator("tr.product-row").filter(has_text=name).locator("[data-stock]")


def test_admin_creates_a_product_seen_in_the_catalog_and_edits_its_stock_inline(
    page, admin, request
):
    # Chromium notes the deliberate 422 (the form with errors) as a failed resource load.
    request.node.allowed_console = ("status of 422",)
    name = f"Browser Bucket {uuid.uuid4().hex[:6]}"
    try:
        create_check_and_delete(page, admin, name)
    finally:
        remove_leftovers(page, admin, name)  # the storefront tests expect the seed catalog


def remove_leftovers(page, admin: tuple[str, str], name: str) -> None:
    email, password = admin
    login = page.request.post("/api/auth/login", data={"email": email, "password": password})
    token = login.json()["token"]
    found = page.request.get("/api/products", params={"q": name}).json()["data"]
    for product in found:
        page.request.delete(
            f"/api/admin/products/{product['product_id']}",
            headers={"Authorization": f"Bearer {token}"},
        )


def create_check_and_delete(page, admin: tuple[str, str], name: str) -> None:
    log_in(page, *admin)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="New product").click()
    expect(page.get_by_role("heading", name="New product")).to_be_visible()

    # Validation happens on the server; the messages appear beside their fields.
    page.get_by_role("button", name="Create product").click()
    expect(page.locator("#f-e-name")).to_contain_text("Enter a product name.")
    expect(page.locator("#f-e-category")).to_contain_text("Choose a category.")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Category").select_option("storage")
    page.get_by_label("Price (rupiah)").fill("275.000")
    page.get_by_label("Stock", exact=True).fill("4")
    page.get_by_label("Description (optional)").fill("Made by the browser test.")
    page.get_by_role("button", name="Create product").click()
    expect(page).to_have_url(re.compile(r"/admin/products$"))
    expect(page.locator("#toasts")).to_contain_text(f"Created “{name}”")
    expect(stock_cell(page, name)).to_have_text("4")

    # +/− swap only the row.
    page.get_by_role("button", name=f"One more “{name}” in stock").click()
    expect(stock_cell(page, name)).to_have_text("5")
    expect(page.locator("#toasts")).to_contain_text(f"Stock of “{name}” is now 5.")

    # The inline edit row: change the price and add ten to the stock, then the row is back.
    page.get_by_role("link", name=f"Edit “{name}”").click()
    edit = page.get_by_role("form", name=re.compile(f"Edit “{name}”"))
    expect(edit).to_be_visible()
    edit.get_by_label("Price (rupiah)").fill("300000")
    edit.get_by_label("Change stock by").fill("10")
    edit.get_by_role("button", name="Save").click()
    expect(stock_cell(page, name)).to_have_text("15")
    row = page.locator("tr.product-row").filter(has_text=name)
    expect(row).to_contain_text("Rp 300.000")
    page.get_by_role("button", name=f"One less “{name}” in stock").click()
    expect(stock_cell(page, name)).to_have_text("14")

    # The public catalog finds it, with the new price and stock.
    page.goto("/")
    page.get_by_label("Search products").press_sequentially(name.split()[-1], delay=30)
    card = page.locator(".product-card").filter(has_text=name)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Rp 300.000")
    card.get_by_role("link").click()
    expect(page.locator(".product-info")).to_contain_text("14 available")

    # Delete asks first (hx-confirm); the row goes and so does the catalog's card.
    page.goto("/admin/products?q=" + name.split()[-1])
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name=f"Delete “{name}”").click()
    expect(page.locator("tr.product-row").filter(has_text=name)).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text(f"Deleted “{name}”.")
    page.goto("/?q=" + name.split()[-1])
    expect(page.locator(".results-count")).to_contain_text("No products found")


def test_admin_runs_orders_through_to_delivered_and_cancels_one(page, admin):
    log_in(page, *admin)
    first = place_order(page)
    second = place_order(page)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Orders").click()
    # A bank transfer is confirmed on the order page, with the bank's reference.
    page.locator(f"#order-{first}").get_by_role("link", name=re.compile("^Confirm payment")).click()
    page.get_by_label("Transfer reference").fill("TRF-BROWSER-1")
    page.get_by_role("button", name="Confirm payment").click()
    expect(page.locator("#admin-order code", has_text="TRF-BROWSER-1")).to_be_visible()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Orders").click()
    row = page.locator(f"#order-{first}")
    expect(row.locator(".status")).to_have_text("Paid")
    for action, status in (
        ("Mark shipped", "Shipped"),
        ("Mark delivered", "Delivered"),
    ):
        row.get_by_role("button", name=re.compile(f"^{action}")).click()
        expect(row.locator(".status")).to_have_text(status)
    expect(row).to_contain_text("No further steps")

    # Cancel asks first (hx-confirm); accepting it cancels and puts the stock back.
    stock_before = page.request.get("/api/products/PROD-LAMBDA-10M").json()["data"]["stock"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#order-{second}").get_by_role("button", name=re.compile("^Cancel order")).click()
    expect(page.locator(f"#order-{second} .status")).to_have_text("Cancelled")
    stock_after = page.request.get("/api/products/PROD-LAMBDA-10M").json()["data"]["stock"]
    assert stock_after == stock_before + 1

    page.get_by_role("link", name=first).click()
    history = page.locator(".history li")
    expect(history).to_have_count(4)
    expect(history.nth(3)).to_contain_text("Delivered")


ADMIN_PAGES = [
    ("admin-dashboard", "/admin"),
    ("admin-products", "/admin/products"),
    ("admin-low-stock", "/admin/products?low=1"),
    ("admin-new-product", "/admin/products/new"),
    ("admin-orders", "/admin/orders"),
]


def test_admin_pages_pass_axe_and_are_screenshotted(page, admin):
    log_in(page, *admin)
    order_id = place_order(page, quantity=2)
    pages = [
        *ADMIN_PAGES,
        ("admin-order", f"/admin/orders/{order_id}"),
        ("admin-delete", "/admin/products/PROD-LAMBDA-10M/delete"),
    ]
    problems = {}
    for name, path in pages:
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found = axe_violations(page)
            if found:
                problems[f"{name}@{width}"] = found
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)

    # The edit row open, and the chart's table alternative shown.
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/products?q=lambda")
        page.get_by_role("link", name=re.compile("^Edit “AWS Lambda")).click()
        expect(page.locator("tr.edit-row")).to_be_visible()
        found = axe_violations(page)
        if found:
            problems[f"edit-row@{width}"] = found
        page.screenshot(path=SCREENSHOTS / f"admin-edit-row-{width}.png", full_page=True)
    page.goto("/admin")
    page.get_by_text("Show the figures as a table").click()
    found = axe_violations(page)
    if found:
        problems["chart-table"] = found
    assert not problems, problems
