"""The admin product forms take an image (multipart): a real image is shown everywhere the
product is, a refused file is a message on the form (wrong type, a renamed text file, too
large, corrupt, too many pixels), CSRF is still checked, and only the upload routes take
bodies over 1 MB (up to MAX_UPLOAD_BYTES and the form's allowance; beyond, 413)."""

from __future__ import annotations

import os
import re

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from cloudstore import create_app
from cloudstore.web.uploads import FORM_ALLOWANCE
from tests.helpers import make_settings
from tests.helpers.images import picture, png_claiming
from tests.helpers.pages import as_admin, htmx, text

MAX_UPLOAD = 100_000  # small, so an oversized file is cheap to send
FORM = {"name": "Framed", "category": "compute", "price": "150000", "stock": "3"}


@pytest.fixture(scope="module")
def settings(postgres_url, dynamodb, tmp_path_factory):
    return make_settings(
        postgres_url,
        dynamodb.endpoint,
        tmp_path_factory.mktemp("data"),
        max_upload_bytes=MAX_UPLOAD,
    )


@pytest.fixture(scope="module")
async def app(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture
async def admin(client, backends):
    return await as_admin(client, backends)


def upload(data: bytes, filename: str = "photo.png", content_type: str = "image/png"):
    return {
        "image": FileStorage(stream=_stream(data), filename=filename, content_type=content_type)
    }


def _stream(data: bytes):
    import io

    return io.BytesIO(data)


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    import io

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


async def create(client, token, files, **fields):
    return await client.post(
        "/admin/products", form={**FORM, **fields}, files=files, headers=htmx(token)
    )


async def product_named(backends, name: str):
    snapshot = await backends.catalog.index()
    return next(p for p in snapshot.query(q=name, limit=50).items if p.name == name)


async def test_a_new_product_with_an_image_shows_it_on_its_page_and_in_the_catalog(
    client, backends, admin
):
    response = await create(client, admin, upload(picture("PNG")), name="Framed one")
    assert response.status_code == 200, await text(response)
    product = await product_named(backends, "Framed one")
    assert product.image is not None
    page = await text(await client.get(f"/products/{product.product_id}"))
    card, page_image = product.image.card, product.image.page
    assert (
        f'src="/media/{page_image.key}" srcset="/media/{page_image.key} 1x, '
        f'/media/{page_image.key_2x} 2x" width="640" height="480"'
    ) in page
    catalog = await text(await client.get("/", query_string={"q": "Framed one"}))
    assert f'src="/media/{card.key}"' in catalog and 'width="400" height="300"' in catalog
    served = await client.get(f"/media/{page_image.key}")
    assert served.status_code == 200 and served.content_type == "image/webp"


async def test_the_cart_shows_the_uploaded_thumbnail(app, client, backends, admin):
    await create(client, admin, upload(picture("JPEG"), "p.jpg", "image/jpeg"), name="Cart pic")
    product = await product_named(backends, "Cart pic")
    cart = [{"product_id": product.product_id, "quantity": 1}]
    shopper = app.test_client()  # an anonymous visitor: the cart comes from the browser
    body = await text(await shopper.get("/cart", headers=htmx(cart=cart)))
    thumb = product.image.thumb
    assert f'srcset="/media/{thumb.key} 1x, /media/{thumb.key_2x} 2x"' in body


async def test_the_edit_form_replaces_the_image_and_its_files_go(client, backends, admin):
    await create(client, admin, upload(picture("PNG")), name="Replace me")
    product = await product_named(backends, "Replace me")
    old = product.image
    form = {
        "name": "Replace me",
        "category": "compute",
        "price": "150000",
        "image_url": product.image_url,
    }
    response = await client.put(
        f"/admin/products/{product.product_id}",
        form=form,
        files=upload(picture("WEBP", color=(0, 200, 0)), "new.webp", "image/webp"),
        headers={**htmx(admin), "HX-Target": f"product-{product.product_id}"},
    )
    assert response.status_code == 200, await text(response)
    fresh = await backends.catalog.fetch(product.product_id)
    assert fresh.image is not None and fresh.image != old
    assert (await client.get(f"/media/{old.page.key}")).status_code == 404
    assert (await client.get(f"/media/{fresh.image.page.key}")).status_code == 200


async def test_the_edit_form_can_remove_the_image(client, backends, admin):
    await create(client, admin, upload(picture("PNG")), name="Remove pic")
    product = await product_named(backends, "Remove pic")
    form = {
        "name": "Remove pic",
        "category": "compute",
        "price": "150000",
        "image_url": product.image_url,
        "remove_image": "1",
    }
    response = await client.post(
        f"/admin/products/{product.product_id}", form=form, files={}, headers=htmx(admin)
    )
    assert response.status_code == 200, await text(response)
    fresh = await backends.catalog.fetch(product.product_id)
    assert fresh.image is None and fresh.image_url == ""


async def test_the_no_js_form_posts_multipart_with_its_csrf_field(client, backends, admin):
    response = await client.post(
        "/admin/products",
        form={**FORM, "name": "No JS pic", "csrf_token": admin},
        files=upload(picture("PNG")),
    )
    assert response.status_code in (302, 303), await text(response)
    assert (await product_named(backends, "No JS pic")).image is not None


async def test_an_upload_without_the_csrf_token_is_refused(client, backends, admin):
    response = await client.post(
        "/admin/products", form={**FORM, "name": "Forged pic"}, files=upload(picture("PNG"))
    )
    assert response.status_code == 403
    snapshot = await backends.catalog.index()
    assert not snapshot.query(q="Forged pic", limit=5).items


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"Meeting notes\nnot a picture\n" * 10, "photo.png", "is not a PNG, JPEG or WebP image"),
        (b"GIF89a" + b"\x00" * 100, "anim.gif", "is not a PNG, JPEG or WebP image"),
        (b"\x89PNG\r\n\x1a\n" + b"broken" * 50, "broken.png", "could not be read"),
        (png_claiming(9000, 9000), "huge.png", "has too many pixels"),
        (noise_png(300), "big.png", "is larger than 97 KB"),
    ],
    ids=["renamed-text", "gif", "corrupt", "too-many-pixels", "too-large"],
)
async def test_a_refused_file_is_a_clear_message_on_the_form(
    client, backends, admin, data, filename, message
):
    name = f"Refused {filename}"
    response = await create(client, admin, upload(data, filename, "image/png"), name=name)
    assert response.status_code == 422
    body = await text(response)
    assert message in body
    assert re.search(r'id="f-e-image"', body)
    assert f'value="{name}"' in body  # the other fields are kept
    snapshot = await backends.catalog.index()
    assert not snapshot.query(q=name, limit=5).items


async def test_a_refused_file_on_the_edit_form_changes_nothing(client, backends, admin):
    await create(client, admin, upload(picture("PNG")), name="Keep pic")
    product = await product_named(backends, "Keep pic")
    form = {"name": "Keep pic renamed", "category": "compute", "price": "150000"}
    response = await client.put(
        f"/admin/products/{product.product_id}",
        form=form,
        files=upload(b"not an image", "x.jpg", "image/jpeg"),
        headers={**htmx(admin), "HX-Target": f"product-{product.product_id}"},
    )
    assert response.status_code == 422
    assert "is not a PNG, JPEG or WebP image" in await text(response)
    fresh = await backends.catalog.fetch(product.product_id)
    assert fresh.name == "Keep pic" and fresh.image == product.image


async def test_a_body_over_the_upload_limit_is_413_on_the_form_route(client, admin):
    too_big = os.urandom(MAX_UPLOAD + FORM_ALLOWANCE + 1024)
    response = await client.post(
        "/admin/products",
        form={**FORM, "csrf_token": admin},
        files=upload(too_big),
    )
    assert response.status_code == 413
    assert "This image is larger than 97 KB" in await text(response)


async def test_a_body_over_the_upload_limit_is_a_form_message_for_htmx(client, admin):
    too_big = os.urandom(MAX_UPLOAD + FORM_ALLOWANCE + 1024)
    response = await create(client, admin, upload(too_big))
    assert response.status_code == 422
    assert "This image is larger than 97 KB" in await text(response)


async def test_bodies_over_1_mb_are_still_refused_everywhere_else(client, backends, admin):
    await create(client, admin, upload(picture("PNG")), name="Stock pic")
    product = await product_named(backends, "Stock pic")
    padding = "x" * (1024 * 1024 + 10)
    stock = await client.post(
        f"/admin/products/{product.product_id}/stock",
        form={"delta": "1", "pad": padding},
        headers=htmx(admin),
    )
    assert stock.status_code == 413
    login = await client.post("/login", form={"email": "a@example.com", "password": padding})
    assert login.status_code == 413
