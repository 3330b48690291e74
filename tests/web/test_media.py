"""`/media/<name>`: product images served by the app from either store, content-hashed and
cached for a year; anything that is not a media name is a 404 (no path is ever built from
it); MEDIA_BASE_URL moves the pages' image URLs to a CDN and into the CSP's img-src."""

from __future__ import annotations

import pytest

from cloudstore import create_app
from cloudstore.shop import catalog
from tests.helpers import make_settings
from tests.helpers.images import new_bucket, picture, s3_endpoint  # noqa: F401 - fixture

FIELDS = {"name": "Served pic", "category": "compute", "price": 150000, "stock": 4}


async def test_a_media_file_is_webp_cached_for_a_year(app, client, backends):
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    response = await client.get(f"/media/{product.image.card.key}")
    assert response.status_code == 200
    assert response.content_type == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = await client.get(
        f"/media/{product.image.card.key}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/media/" + "0" * 40 + ".webp",  # well formed, no such file
        "/media/..%2F..%2Fjwt_secret",
        "/media/../runtime.json",
        "/media/%2e%2e/runtime.json",
        "/media/" + "A" * 40 + ".webp",
        "/media/x.svg",
        "/media/",
    ],
)
async def test_anything_but_an_existing_media_name_is_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404


async def test_the_s3_store_serves_under_media_too(postgres_url, dynamodb, tmp_path, s3_endpoint):  # noqa: F811
    settings = make_settings(
        postgres_url,
        dynamodb.endpoint,
        tmp_path / "data",
        media_backend="s3",
        s3_bucket=new_bucket(s3_endpoint),
        s3_endpoint=s3_endpoint,
    )
    app = create_app(settings)
    async with app.test_app():
        backends = app.extensions["cloudstore"]
        product = await catalog.create_product(backends, FIELDS, image=picture("JPEG"))
        response = await app.test_client().get(product.image_url)
        assert response.status_code == 200 and response.content_type == "image/webp"
        assert not (tmp_path / "data" / "media").exists()


async def test_with_media_base_url_pages_load_images_from_the_cdn(postgres_url, dynamodb, tmp_path):
    settings = make_settings(
        postgres_url, dynamodb.endpoint, tmp_path / "data", media_base_url="https://cdn.example.com"
    )
    app = create_app(settings)
    async with app.test_app():
        backends = app.extensions["cloudstore"]
        product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
        client = app.test_client()
        page = await client.get(f"/products/{product.product_id}")
        body = await page.get_data(as_text=True)
        key = product.image.page.key
        assert f'src="https://cdn.example.com/{key}"' in body
        csp = page.headers["Content-Security-Policy"]
        assert "img-src 'self' data: https://cdn.example.com;" in csp
        # The API keeps the app's own URL, which works with or without the CDN.
        api = await (await client.get(f"/api/products/{product.product_id}")).get_json()
        assert api["data"]["image_url"] == f"/media/{key}"


async def test_without_media_base_url_the_csp_allows_only_our_own_images(client):
    response = await client.get("/")
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]


async def test_a_product_without_an_upload_keeps_its_svg_artwork(client, seeded):
    body = await (await client.get("/products/PROD-LAMBDA-10M")).get_data(as_text=True)
    url = seeded["PROD-LAMBDA-10M"]["image_url"]
    assert f'src="{url}" width="640" height="480"' in body
    assert "srcset" not in body.split('class="product-image"')[1].split("</div>")[0]
