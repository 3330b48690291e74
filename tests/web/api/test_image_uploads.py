"""`POST /api/admin/products/{id}/image` (multipart) and `DELETE` of it: admins only; a
refused file is the API's error envelope with a 4xx status (415 wrong type, 413 too large or
too many pixels, 400 unreadable or missing), and `image_url` stays the page-size URL."""

from __future__ import annotations

import io
import os

import pytest
from werkzeug.datastructures import FileStorage

from cloudstore import create_app
from cloudstore.web.uploads import FORM_ALLOWANCE
from tests.helpers import admin_headers, bearer, make_settings, register
from tests.helpers.images import decoded, picture, png_claiming

MAX_UPLOAD = 100_000


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


@pytest.fixture(scope="module")
async def admin(app):
    return await admin_headers(app)


def image_file(data: bytes, filename: str = "photo.png", content_type: str = "image/png"):
    return {"image": FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)}


async def new_product(client, admin) -> str:
    response = await client.post(
        "/api/admin/products",
        json={"name": "API pic", "category": "storage", "price": 90000, "stock": 2},
        headers=admin,
    )
    return (await response.get_json())["data"]["product_id"]


async def test_an_admin_uploads_an_image_and_image_url_is_the_page_size(client, admin):
    product_id = await new_product(client, admin)
    response = await client.post(
        f"/api/admin/products/{product_id}/image", files=image_file(picture("JPEG")), headers=admin
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    data = (await response.get_json())["data"]
    page = data["image"]["page"]
    assert data["image_url"] == f"/media/{page['1x']}"
    assert (page["width"], page["height"]) == (640, 480)
    public = await (await client.get(f"/api/products/{product_id}")).get_json()
    assert public["data"]["image_url"] == data["image_url"]
    served = await client.get(data["image_url"])
    assert decoded(await served.get_data()).size == (640, 480)


async def test_deleting_the_image_removes_its_files(client, admin):
    product_id = await new_product(client, admin)
    uploaded = await client.post(
        f"/api/admin/products/{product_id}/image", files=image_file(picture("PNG")), headers=admin
    )
    url = (await uploaded.get_json())["data"]["image_url"]
    response = await client.delete(f"/api/admin/products/{product_id}/image", headers=admin)
    assert response.status_code == 200
    data = (await response.get_json())["data"]
    assert data["image_url"] == "" and "image" not in data
    assert (await client.get(url)).status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"hello, I am a text file named photo.png", 415, "PNG, JPEG or WebP"),
        (b"\xff\xd8\xff" + b"\x00" * 200, 400, "could not be read"),
        (png_claiming(8000, 8000), 413, "megapixels"),
        (os.urandom(MAX_UPLOAD + 1), 413, "larger than 97 KB"),
    ],
    ids=["text", "corrupt", "pixels", "bytes"],
)
async def test_a_refused_file_is_a_4xx_envelope(client, admin, data, status, words):
    product_id = await new_product(client, admin)
    response = await client.post(
        f"/api/admin/products/{product_id}/image", files=image_file(data), headers=admin
    )
    assert response.status_code == status
    body = await response.get_json()
    assert body["success"] is False and words in body["error"]


async def test_a_request_without_the_file_is_a_400(client, admin):
    product_id = await new_product(client, admin)
    response = await client.post(
        f"/api/admin/products/{product_id}/image", json={"image": "x"}, headers=admin
    )
    assert response.status_code == 400
    assert "multipart/form-data" in (await response.get_json())["error"]


async def test_a_body_over_the_upload_limit_is_413_with_the_image_limit(client, admin):
    product_id = await new_product(client, admin)
    response = await client.post(
        f"/api/admin/products/{product_id}/image",
        files=image_file(os.urandom(MAX_UPLOAD + FORM_ALLOWANCE + 1)),
        headers=admin,
    )
    assert response.status_code == 413
    assert "97 KB" in (await response.get_json())["error"]


async def test_other_api_routes_keep_the_1_mb_limit(client, admin):
    response = await client.post(
        "/api/admin/products",
        data=b'{"name": "' + b"x" * (1024 * 1024) + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert (await response.get_json())["error"] == "request body is too large (limit 1 MB)"


async def test_an_image_for_a_missing_product_is_404(client, admin):
    response = await client.post(
        "/api/admin/products/PROD-NOT-THERE/image",
        files=image_file(picture("PNG")),
        headers=admin,
    )
    assert response.status_code == 404


async def test_customers_may_not_upload(client, admin):
    product_id = await new_product(client, admin)
    token = await register(client)
    response = await client.post(
        f"/api/admin/products/{product_id}/image",
        files=image_file(picture("PNG")),
        headers=bearer(token),
    )
    assert response.status_code == 403
