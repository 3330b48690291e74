"""Product images in real Chromium: an admin uploads a real PNG on the new-product form and
the product page shows it (loaded, from /media/, with its srcset); a renamed text file and a
file over MAX_UPLOAD_BYTES are refused with a clear message beside the image field."""

from __future__ import annotations

import io
import os
import re
import uuid

from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_admin import admin, remove_leftovers  # noqa: F401 - fixture
from tests.browser.test_storefront import axe_violations


def png_bytes(fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (1200, 900), (230, 90, 20))
    image.paste(Image.new("RGB", (600, 900), (20, 90, 230)), (600, 0))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def log_in(page, email: str, password: str) -> None:
    page.goto("/login?next=/admin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # bcrypt at the server's real cost, on a shared machine: allow it time.
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=60_000)


def fill_new_product(page, name: str) -> None:
    page.goto("/admin/products/new")
    expect(page.get_by_role("heading", name="New product")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Category").select_option("compute")
    page.get_by_label("Price (rupiah)").fill("450000")
    page.get_by_label("Stock", exact=True).fill("3")


def test_an_uploaded_png_is_shown_on_the_product_page(page, admin, request):  # noqa: F811
    name = f"Pictured {uuid.uuid4().hex[:6]}"
    try:
        log_in(page, *admin)
        fill_new_product(page, name)
        page.get_by_label("Image (optional)").set_input_files(
            {"name": "server.png", "mimeType": "image/png", "buffer": png_bytes()}
        )
        page.get_by_role("button", name="Create product").click()
        # Decoding and encoding six sizes takes a few seconds on a busy machine.
        expect(page).to_have_url(re.compile(r"/admin/products$"), timeout=60_000)
        expect(page.locator("#toasts")).to_contain_text(f"Created “{name}”")

        found = page.request.get("/api/products", params={"q": name}).json()["data"]
        assert len(found) == 1 and found[0]["image_url"].startswith("/media/")
        page.goto(f"/products/{found[0]['product_id']}")
        picture = page.locator(".product-image img")
        expect(picture).to_have_attribute("src", found[0]["image_url"])
        expect(picture).to_have_attribute("srcset", re.compile(r"/media/\S+ 1x, /media/\S+ 2x"))
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
        )
        assert "/media/" in picture.evaluate("img => img.currentSrc")

        # The edit row (htmx, multipart PUT) shows the current image and replaces it.
        page.goto(f"/admin/products?q={name}")
        row = page.locator("tr.product-row").filter(has_text=name)
        first_thumb = row.locator("img.row-thumb").get_attribute("src")
        assert first_thumb.startswith("/media/")
        row.get_by_role("link", name=re.compile("Edit")).click()
        edit = page.locator("tr.edit-row")
        expect(edit.get_by_label("Remove this image")).not_to_be_checked()
        assert axe_violations(page) == []
        edit.get_by_label("Image (optional)").set_input_files(
            {"name": "new.jpg", "mimeType": "image/jpeg", "buffer": png_bytes("JPEG")}
        )
        edit.get_by_role("button", name="Save").click()
        expect(page.locator("#toasts")).to_contain_text(f"Saved “{name}”", timeout=60_000)
        expect(row.locator("img.row-thumb")).not_to_have_attribute("src", first_thumb)
        assert page.request.get(first_thumb).status == 404  # the old files are gone
    finally:
        remove_leftovers(page, admin, name)


def test_a_renamed_text_file_and_an_oversized_file_are_refused_with_a_message(
    page,
    admin,  # noqa: F811
    request,
):
    # Chromium notes the deliberate 422 (the form with errors) as a failed resource load.
    request.node.allowed_console = ("status of 422",)
    name = f"Refused {uuid.uuid4().hex[:6]}"
    try:
        log_in(page, *admin)
        fill_new_product(page, name)
        page.get_by_label("Image (optional)").set_input_files(
            {"name": "photo.png", "mimeType": "image/png", "buffer": b"Just notes.\n" * 200}
        )
        page.get_by_role("button", name="Create product").click()
        message = page.locator("#f-e-image")
        expect(message).to_contain_text("is not a PNG, JPEG or WebP image")
        expect(page.get_by_label("Image (optional)")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Name", exact=True)).to_have_value(name)

        oversized = os.urandom(5 * 1024 * 1024 + 200_000)  # MAX_UPLOAD_BYTES is 5 MB here
        page.get_by_label("Image (optional)").set_input_files(
            {"name": "big.jpg", "mimeType": "image/jpeg", "buffer": oversized}
        )
        page.get_by_role("button", name="Create product").click()
        expect(message).to_contain_text("This image is larger than 5 MB")
        assert axe_violations(page) == []

        found = page.request.get("/api/products", params={"q": name}).json()["data"]
        assert found == []
    finally:
        remove_leftovers(page, admin, name)
