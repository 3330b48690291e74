"""An order's life in real Chromium: a shopper places an order, sees how to pay and the time
left, cancels it (confirming first) and sees the timeline update; an admin confirms the bank
transfer of another order, and the shopper's page shows it paid on the timeline.

Until the checkout stores a payment (the payments work), the orders get theirs from the
test scaffolding (`tests/helpers/payments.py`, run against the server's own backends)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import ROOT, SCREENSHOTS
from tests.browser.test_admin import admin  # noqa: F401 - module fixture
from tests.browser.test_storefront import axe_violations

PASSWORD = "rahasia-browser-2"  # noqa: S105
GIVE_PAYMENT = (
    "import sys\n"
    "from cloudstore.cli import _on_backends\n"
    "from tests.helpers.payments import give_payment\n"
    "_on_backends(lambda backends: give_payment(backends, sys.argv[1]))\n"
)


def log_in(page, email: str, password: str) -> None:
    page.goto("/login?next=/admin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # bcrypt at the server's full cost, on a shared machine: allow it time.
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=30_000)


def sign_up(page) -> None:
    page.goto("/register")
    page.get_by_label("Full name").fill("Sari Dewi")
    page.get_by_label("Email").fill(f"sari-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # bcrypt at the server's full cost, on a shared machine: allow it time.
    expect(page.get_by_role("link", name="Orders")).to_be_visible(timeout=30_000)


def place_an_order(page, server_env) -> str:
    page.goto("/products/PROD-LAMBDA-10M")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count .count-badge")).to_have_text("1")
    page.goto("/checkout")
    page.get_by_label("Phone").fill("+62 812 3456 7890")
    page.get_by_label("Street address").fill("Jl. Sudirman No. 1")
    page.get_by_label("City").fill("Jakarta")
    page.get_by_label("Postal code").fill("10220")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(re.compile(r"/orders/ORD-"))
    order_id = page.url.rsplit("/", 1)[1]
    if "How to pay" not in page.locator("#order-panel").inner_text():
        give_payment(server_env, order_id)
        page.reload()
    return order_id


def give_payment(server_env, order_id: str) -> None:
    done = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", GIVE_PAYMENT, order_id],
        cwd=ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_shopper_cancels_one_order_and_an_admin_confirms_another(
    page, make_context, admin, server_env
):
    sign_up(page)
    first = place_an_order(page, server_env)
    order_panel = page.locator("#order-panel")
    expect(order_panel).to_contain_text("How to pay: bank transfer")
    expect(order_panel.locator(".time-left")).to_contain_text(
        re.compile(r"\d+ (d|h|min)\b.* left — pay by \d{1,2} \w{3} \d{4}, \d{2}:\d{2} WIB")
    )
    expect(page.locator("#pay-reference")).to_have_text(first)
    expect(page.locator("#pay-amount")).to_have_text(re.compile(r"^\d+$"))
    assert axe_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "order-pending-1280.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(SCREENSHOTS / "order-pending-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Cancelling asks first (hx-confirm); the panel then says what happened and takes focus.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Cancel order").click()
    outcome = page.locator("#order-outcome")
    expect(outcome).to_contain_text("Your order is cancelled.")
    expect(outcome).to_be_focused()
    assert asked and first in asked[0]
    timeline = order_panel.locator(".timeline li")
    expect(timeline).to_have_count(2)
    expect(timeline.nth(1)).to_contain_text("Cancelled")
    expect(timeline.nth(1)).to_contain_text("by you")
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "order-cancelled-1280.png"), full_page=True)

    second = place_an_order(page, server_env)
    admin_page = make_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin_page, *admin)
    admin_page.goto(f"/admin/orders/{second}")
    expect(admin_page.locator("#payment-panel")).to_contain_text("Awaiting payment")
    admin_page.get_by_label("Transfer reference").fill("BCA 30/11 #8812")
    admin_page.get_by_role("button", name="Confirm payment").click()
    expect(admin_page.locator("#payment-panel")).to_contain_text("Payment confirmed")
    expect(admin_page.locator("#payment-panel .alert-success")).to_be_focused()
    expect(admin_page.locator(".order-meta .status")).to_have_text("Paid")
    admin_page.screenshot(path=str(SCREENSHOTS / "admin-order-paid-1280.png"), full_page=True)

    page.reload()
    expect(order_panel).to_contain_text("Your payment has arrived")
    expect(timeline.last).to_contain_text("Paid")
    expect(timeline.last).to_contain_text("by the shop")

    page.goto("/orders")
    rows = page.locator(".order-list li")
    expect(rows.filter(has_text=second)).to_contain_text("Paid — being prepared")
    expect(rows.filter(has_text=first)).to_contain_text("Cancelled")


def test_without_javascript_cancelling_goes_through_a_confirm_page(make_context, server_env):
    context = make_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    sign_up(page)
    page.goto("/products/PROD-LAMBDA-10M")
    page.get_by_role("button", name="Add to cart").click()
    page.goto("/checkout")
    page.get_by_label("Phone").fill("+62 812 3456 7890")
    page.get_by_label("Street address").fill("Jl. Sudirman No. 1")
    page.get_by_label("City").fill("Jakarta")
    page.get_by_label("Postal code").fill("10220")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(re.compile(r"/orders/ORD-"))
    order_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("button", name="Cancel order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}/cancel\??$"))  # a GET form
    page.get_by_role("link", name="Keep my order").click()
    expect(page.locator("#order-panel .status").first).to_have_text("Pending")
    page.get_by_role("button", name="Cancel order").click()
    page.get_by_role("button", name="Yes, cancel this order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}\?done=cancelled$"))
    expect(page.locator("#order-outcome")).to_contain_text("Your order is cancelled.")
    expect(page.locator("#order-outcome")).to_be_focused()
    expect(page.locator(".timeline li").last).to_contain_text("by you")
