"""The storefront in real Chromium: search, filter, the anonymous cart, sign-up merge,
checkout, history, no-JS browsing, accessibility (axe-core), and screenshots.

Every test fails on a console error or on any request to another host (see conftest)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

# Vendored for the tests only: the app never serves it. The page asks a same-origin URL
# (CSP: 'self') that the test answers itself from the file.
AXE_FILE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_URL = "/__browser-tests__/axe.min.js"
SERIOUS = ("serious", "critical")
PASSWORD = "rahasia-browser-1"  # noqa: S105


def axe_violations(page) -> list[str]:
    if not page.evaluate("!!window.axe"):
        page.route(
            f"**{AXE_URL}",
            lambda route: route.fulfill(path=AXE_FILE, content_type="application/javascript"),
        )
        page.add_script_tag(url=AXE_URL)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def add_first_product_to_cart(page, name_pattern: str) -> str:
    card = page.locator(".product-card").filter(has_text=re.compile(name_pattern)).first
    name = card.locator("h3").inner_text()
    card.get_by_role("button", name=re.compile(r"^Add .* to cart$")).click()
    expect(page.locator("#toasts")).to_contain_text(f"Added 1 × {name}")
    return name


def cart_count(page):
    return page.locator("#cart-count .count-badge")


def test_search_as_you_type_updates_results_and_url(page):
    page.goto("/")
    expect(page.locator(".results-count")).to_contain_text("18 products")
    page.get_by_label("Search products").press_sequentially("postgre", delay=40)
    expect(page).to_have_url(re.compile(r"/\?q=postgre$"))
    expect(page.locator(".results-count")).to_contain_text("for “postgre”")
    names = page.locator(".product-card h3").all_inner_texts()
    assert names and all("PostgreSQL" in name or "Aurora" in name for name in names), names
    page.go_back()
    expect(page.locator(".results-count")).to_contain_text("18 products")


def test_category_filter_and_load_more(page):
    page.goto("/")
    page.get_by_label("Category").select_option("storage")
    expect(page).to_have_url(re.compile(r"category=storage"))
    expect(page.locator(".product-card .category-tag")).not_to_have_count(0)
    tags = set(page.locator(".product-card .category-tag").all_inner_texts())
    assert {tag.strip().lower() for tag in tags} == {"storage"}
    page.goto("/")
    expect(page.locator(".product-card")).to_have_count(12)
    page.get_by_role("link", name="Load more products").click()
    expect(page.locator(".product-card")).to_have_count(18)
    expect(page).to_have_url(re.compile(r"/\?pages=2$"))


def test_anonymous_cart_survives_a_reload_and_the_drawer_is_a_dialog(page):
    page.goto("/")
    add_first_product_to_cart(page, "S3")
    expect(cart_count(page)).to_have_text("1")
    stored = page.evaluate("localStorage.getItem('cloudstore.cart.v1')")
    assert '"quantity":1' in stored
    page.reload()
    expect(cart_count(page)).to_have_text("1")
    opener = page.get_by_role("link", name=re.compile("Cart"))
    opener.click()
    drawer = page.get_by_role("dialog", name="Your cart")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text("Total")
    drawer.get_by_role("button", name=re.compile("Increase quantity")).click()
    expect(cart_count(page)).to_have_text("2")
    # The drawer's lines were swapped: focus is on the new "Increase" button (feedback.js).
    expect(drawer.get_by_role("button", name=re.compile("Increase quantity"))).to_be_focused()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('cart-button')")
    page.goto("/cart")
    expect(page.locator("#cart-panel")).to_contain_text("Subtotal")
    expect(page.locator("#cart-panel .line-total").first).to_be_visible()


def test_sign_up_merges_the_cart_then_checkout_drops_stock_and_lists_the_order(page):
    page.goto("/products/PROD-EC2-T3MEDIUM")
    stock_before = int(re.search(r"(\d+) available", page.inner_text(".product-info")).group(1))
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_count(page)).to_have_text("2")

    page.goto("/checkout")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcheckout"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Sari Dewi")
    page.get_by_label("Email").fill(f"sari-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/checkout$"))
    expect(page.locator("#toasts")).to_contain_text("Added 2 items from this browser")
    expect(cart_count(page)).to_have_text("2")
    # cart.js (deferred) drops the browser's copy once the page says the server holds the cart.
    page.wait_for_function("localStorage.getItem('cloudstore.cart.v1') === null")

    page.get_by_label("Phone").fill("+62 812 3456 7890")
    page.get_by_label("Street address").fill("Jl. Sudirman No. 1")
    page.get_by_label("City").fill("Jakarta")
    page.get_by_label("Postal code").fill("10220")
    page.get_by_role("button", name=re.compile("Place order")).click()

    expect(page).to_have_url(re.compile(r"/orders/ORD-"))
    expect(page.locator("#toasts")).to_contain_text("Your order is placed")
    order_id = page.url.rsplit("/", 1)[1]
    expect(cart_count(page)).to_have_text("0")

    page.goto("/products/PROD-EC2-T3MEDIUM")
    stock_after = int(re.search(r"(\d+) available", page.inner_text(".product-info")).group(1))
    assert stock_after == stock_before - 2

    page.get_by_role("link", name="Orders").click()
    expect(page.locator(".order-list li").first).to_contain_text(order_id)


def test_without_javascript_one_can_browse_search_and_filter(make_context):
    page = make_context(
        java_script_enabled=False, viewport={"width": 375, "height": 800}
    ).new_page()
    page.goto("/")
    expect(page.locator(".product-card")).to_have_count(12)
    page.get_by_label("Search products").fill("storage")
    page.get_by_label("Category").select_option("storage")
    page.get_by_role("button", name="Show results").click()
    expect(page).to_have_url(re.compile(r"q=storage.*category=storage"))
    expect(page.locator(".results-count")).to_contain_text("in Storage")
    page.locator(".product-card a").first.click()
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Add to cart|Sold out"))).to_be_visible()
    page.goto("/?sort=price_desc")
    expect(page.get_by_label("Sort by")).to_have_value("price_desc")


PAGES_ANONYMOUS = [
    ("catalog", "/"),
    ("search", "/?q=database"),
    ("product", "/products/PROD-EC2-T3MEDIUM"),
    ("cart", "/cart"),
    ("login", "/login"),
    ("register", "/register"),
    ("not-found", "/products/NOPE"),
]
PAGES_SIGNED_IN = [
    ("checkout", "/checkout"),
    ("orders", "/orders"),
    ("profile", "/profile"),
]


def test_axe_finds_no_serious_violations_and_screenshots(page, request):
    request.node.allowed_console = ("status of 404",)  # the 404 page itself
    problems = {}

    def visit(name: str, path: str) -> None:
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found = axe_violations(page)
            if found:
                problems[f"{name}@{width}"] = found
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)

    # An anonymous cart so /cart and the drawer have content.
    page.goto("/")
    add_first_product_to_cart(page, "Lambda|S3|EC2")
    for name, path in PAGES_ANONYMOUS:
        visit(name, path)
    page.goto("/")
    page.get_by_role("link", name=re.compile("Cart")).click()
    expect(page.get_by_role("dialog", name="Your cart")).to_be_visible()
    # The drawer fades in; axe measures contrast from computed colours, so mid-fade text
    # would read as faint. Wait for the slide-in to end.
    page.evaluate(
        "Promise.all(document.querySelector('dialog[open]').getAnimations().map(a => a.finished))"
    )
    found = axe_violations(page)
    if found:
        problems["drawer"] = found
    page.screenshot(path=SCREENSHOTS / "drawer-1280.png")
    page.keyboard.press("Escape")

    page.goto("/register")
    page.get_by_label("Full name").fill("Axe Tester")
    page.get_by_label("Email").fill(f"axe-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    for name, path in PAGES_SIGNED_IN:
        visit(name, path)
    assert not problems, problems
