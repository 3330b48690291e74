"""The storefront on every phone, telling the shopper what happened (issue 12, item 4), in
real Chromium at 320/360 and 1280 px, with and without JavaScript.

Every test fails on a console error or on any request to another host (see conftest)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

PASSWORD = "rahasia-phone-1"  # noqa: S105
PHONE = {"width": 360, "height": 740}
CLI = [sys.executable, "-m", "cloudstore"]
CARD_ADD = re.compile(r"^Add .* to cart$")
FITS = """() => {
    const cart = document.querySelector('.cart-button').getBoundingClientRect();
    return {
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
        cartRight: cart.right,
    };
}"""


def cart_count(page):
    return page.locator("#cart-count .count-badge")


def add_from_card(page, text: str) -> None:
    card = page.locator(".product-card").filter(has_text=text).first
    card.get_by_role("button", name=CARD_ADD).click()


def sign_up(page, next_path: str = "/") -> None:
    page.goto(f"/register?next={next_path}")
    page.get_by_label("Full name").fill("Putri Phone")
    page.get_by_label("Email").fill(f"putri-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def assert_fits(page, path: str, shot: str | None = None) -> None:
    page.goto(path)
    if shot:
        page.screenshot(path=SCREENSHOTS / f"phone-320-{shot}.png", full_page=True)
    size = page.evaluate(FITS)
    assert size["scroll"] <= size["width"], f"{path} scrolls sideways at {size}"
    assert size["cartRight"] <= size["width"], f"{path} cuts the cart button off: {size}"


def test_every_page_fits_320_px_signed_out_and_in(make_context, request):
    request.node.allowed_console = ("status of 404",)  # the 404 page itself
    page = make_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto("/?q=lambda")
    add_from_card(page, "Lambda")
    expect(cart_count(page)).to_have_text("1")
    signed_out = ["/", "/?q=database", "/products/PROD-EC2-T3MEDIUM", "/cart", "/login"]
    for path in [*signed_out, "/register", "/products/NOPE"]:
        assert_fits(page, path)
    assert_fits(page, "/cart", shot="cart")
    assert_fits(page, "/products/PROD-LAMBDA-10M", shot="product")
    sign_up(page, "/checkout")
    expect(page).to_have_url(re.compile(r"/checkout$"))
    page.get_by_label("Phone").fill("+62 812 3456 7890")
    page.get_by_label("Street address").fill("Jl. Sudirman No. 1")
    page.get_by_label("City").fill("Jakarta")
    page.get_by_label("Postal code").fill("10220")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(re.compile(r"/orders/ORD-"))
    order = page.url
    for path in [*signed_out, "/checkout", "/orders", order, "/profile"]:
        assert_fits(page, path)
    assert_fits(page, "/", shot="signed-in-catalog")
    assert_fits(page, "/cart", shot="signed-in-cart")


def test_an_admins_header_fits_320_px_too(make_context, server_env):
    """An admin's header has one more link (Admin)."""
    email = f"phone-admin-{uuid.uuid4().hex[:8]}@example.com"
    made = subprocess.run(  # noqa: S603 - our own CLI
        [*CLI, "create-admin", "--email", email, "--password-stdin", "--name", "Phone Admin"],
        env=server_env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    page = make_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Admin")).to_be_visible()
    for path in ("/", "/products/PROD-EC2-T3MEDIUM", "/cart", "/orders"):
        assert_fits(page, path)


def test_phones_show_two_cards_a_row_and_products_above_the_fold(make_context):
    page = make_context(viewport=PHONE).new_page()
    page.goto("/")
    boxes = [page.locator(".product-card").nth(n).bounding_box() for n in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[1]["x"] > boxes[0]["x"]
    assert boxes[2]["y"] > boxes[0]["y"]  # the third starts the second row
    assert boxes[0]["y"] < PHONE["height"] / 2, "the products start in the first half-screen"
    assert page.evaluate(FITS)["scroll"] <= PHONE["width"]
    page.screenshot(path=SCREENSHOTS / "phone-360-catalog.png")


def test_back_after_load_more_restores_the_list_and_the_scroll(page):
    page.goto("/")
    expect(page.locator(".product-card")).to_have_count(12)
    page.get_by_role("link", name="Load more products").click()
    expect(page.locator(".product-card")).to_have_count(18)
    expect(page).to_have_url(re.compile(r"/\?pages=2$"))
    # Focus moved to the first product that came in.
    first_new = page.locator(".product-card").nth(12).locator("a.card-link")
    expect(first_new).to_be_focused()
    card = page.locator(".product-card").nth(16)
    name = card.locator("h3").inner_text()
    card.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 300
    card.locator("a.card-link").click()
    expect(page.locator("h1")).to_have_text(name)
    page.go_back()
    expect(page.locator(".product-card")).to_have_count(18)
    page.wait_for_function(f"window.scrollY > {scrolled - 150}")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 150


def test_a_failed_action_shows_an_error_toast(page, request):
    # The browser logs each failed request; htmx logs the error events.
    request.node.allowed_console = ("Failed to load resource", "Response Status Error", "htmx:")
    page.goto("/?q=lambda")
    toast = page.locator("#toasts .toast-error")

    page.route("**/cart/items", lambda route: route.fulfill(status=500, body="boom"))
    add_from_card(page, "Lambda")
    expect(toast).to_contain_text("Something went wrong on our side")
    adder = page.locator(".product-card").filter(has_text="Lambda").first.get_by_role("button")
    expect(adder).to_be_focused()  # the shopper stays where they were
    page.unroute("**/cart/items")

    page.route("**/cart/items", lambda route: route.fulfill(status=409, body="taken"))
    add_from_card(page, "Lambda")
    expect(toast).to_contain_text("something changed meanwhile")
    expect(toast.get_by_role("link", name="Reload the page")).to_be_visible()
    page.unroute("**/cart/items")

    page.route("**/cart/items", lambda route: route.abort("internetdisconnected"))
    add_from_card(page, "Lambda")
    expect(toast).to_contain_text("We could not reach the shop")
    page.unroute("**/cart/items")

    # The server's own answer: an expired form (a 403 with its error toast).
    page.evaluate(
        "document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRF-Token': 'x'.repeat(43)}))"
    )
    add_from_card(page, "Lambda")
    expect(toast).to_contain_text("This form has expired")
    expect(toast.get_by_role("link", name="Reload the page")).to_have_attribute(
        "href", "/?q=lambda"
    )
    expect(cart_count(page)).to_have_text("0")  # nothing was added behind the message
    toast.get_by_role("button", name="Dismiss this message").click()
    expect(toast).to_have_count(0)


def test_a_quantity_outside_1_to_99_is_explained_as_it_is_typed(page):
    page.goto("/?q=lambda")
    add_from_card(page, "Lambda")
    expect(cart_count(page)).to_have_text("1")
    page.goto("/cart")
    quantity = page.get_by_role("spinbutton", name=re.compile("^Quantity of"))
    quantity.fill("150")
    message = page.locator(".qty-message")
    expect(message).to_have_text("Quantity must be a whole number from 1 to 99.")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    quantity.fill("3")
    expect(message).to_be_hidden()
    quantity.press("Enter")
    expect(cart_count(page)).to_have_text("3")
    page.get_by_role("button", name=re.compile("^Remove")).click()
    # The line went with its buttons: focus goes to the message that says so.
    expect(page.locator("#toasts .toast")).to_be_focused()
    expect(page.locator("#toasts .toast")).to_contain_text("Removed")
    expect(page.locator("main")).not_to_be_focused()


def test_toasts_fade_without_motion_and_can_be_dismissed(make_context):
    page = make_context(viewport=PHONE, reduced_motion="reduce").new_page()
    page.goto("/?q=lambda")
    add_from_card(page, "Lambda")
    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Added 1 ×")
    animation = toast.evaluate(
        "t => [getComputedStyle(t).animationName, getComputedStyle(t).animationDelay]"
    )
    assert animation == ["toast-gone", "6s"]  # no movement, still goes away
    toast.get_by_role("button", name="Dismiss this message").click()
    expect(toast).to_have_count(0)


def test_without_javascript_add_to_cart_keeps_the_item_and_sign_in_merges_it(make_context):
    page = make_context(java_script_enabled=False, viewport=PHONE).new_page()
    page.goto("/?q=lambda")
    add_from_card(page, "Lambda")
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.locator("#cart-panel")).to_contain_text("Lambda")
    expect(cart_count(page)).to_have_text("1")
    page.goto("/products/PROD-EC2-T3MEDIUM")
    page.get_by_role("spinbutton", name="Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_count(page)).to_have_text("3")
    page.goto("/checkout")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcheckout"))
    sign_up(page, "/checkout")
    expect(page).to_have_url(re.compile(r"/checkout$"))
    expect(page.locator("#toasts")).to_contain_text("Added 3 items from this browser")
    expect(page.locator("main")).to_contain_text("Lambda")
    expect(page.locator("main")).to_contain_text("EC2")
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert "cs_cart" not in cookies  # the saved cart holds it now


def test_prices_say_ppn_is_added_and_the_footer_agrees_with_the_cart(page):
    page.goto("/?q=lambda")
    expect(page.locator(".product-card .price").first).to_contain_text("+ PPN 11%")
    expect(page.locator(".site-footer")).to_contain_text("without PPN: 11% PPN is added")
    add_from_card(page, "Lambda")
    expect(cart_count(page)).to_have_text("1")
    page.goto("/cart")
    panel = page.locator("#cart-panel")
    expect(panel).to_contain_text("each + PPN 11%")
    expect(panel.locator(".totals")).to_contain_text("Tax (PPN 11%)")
    expect(panel.locator(".totals")).to_contain_text("Rp 150.000")  # subtotal
    expect(panel.locator(".totals")).to_contain_text("Rp 166.500")  # with PPN
