"""Product images through the shop (shop/catalog.py, shop/product_images.py), with either
media store: an upload becomes files kept in the store and an `image` map on the product
(whose `image_url` is the page-size file); replacing or deleting the product removes the old
files once the write succeeded; a refused upload or a refused write leaves no file behind."""

from __future__ import annotations

import pytest

from cloudstore import create_app
from cloudstore.domain.errors import DomainError, ErrorCode, InvalidInput
from cloudstore.domain.images import SIZES
from cloudstore.shop import catalog, product_images
from tests.helpers import make_settings
from tests.helpers.images import (
    bucket_names,
    decoded,
    new_bucket,
    picture,
    s3_endpoint,  # noqa: F401 - fixture
    with_exif,
)

FIELDS = {"name": "Pictured server", "category": "compute", "price": 150000, "stock": 4}


class Files:
    """What the store holds, whichever store it is."""

    def __init__(self, backends, endpoint=None, bucket=None):
        self.backends, self.endpoint, self.bucket = backends, endpoint, bucket

    def names(self) -> set[str]:
        if self.bucket:
            return bucket_names(self.endpoint, self.bucket)
        root = self.backends.settings.data_dir / "media"
        return {p.name for p in root.iterdir()} if root.exists() else set()


@pytest.fixture(params=["local", "s3"])
async def shop(request, postgres_url, dynamodb, tmp_path):
    overrides = {}
    endpoint = bucket = None
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = new_bucket(endpoint)
        overrides = {"media_backend": "s3", "s3_bucket": bucket, "s3_endpoint": endpoint}
    settings = make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data", **overrides)
    app = create_app(settings)
    async with app.test_app():
        backends = app.extensions["cloudstore"]
        yield backends, Files(backends, endpoint, bucket)


async def test_an_uploaded_image_is_kept_at_every_size_and_named_by_its_content(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("JPEG"))
    image = product.image
    assert image is not None
    assert files.names() == set(image.names())
    assert len(image.names()) == 2 * len(SIZES)
    for size in SIZES:
        variant = image.variant(size.name)
        assert (variant.width, variant.height) == (size.width, size.height)
        data = await product_images.read(backends, variant.key_2x)
        assert decoded(data).size == (size.width * 2, size.height * 2)
        assert variant.key == product_images.media_name(
            product.product_id, await product_images.read(backends, variant.key)
        )
    assert product.image_url == f"/media/{image.page.key}"
    stored = await backends.catalog.fetch(product.product_id)
    assert stored.image == image and stored.image_url == product.image_url


async def test_the_stored_files_carry_no_exif(shop):
    backends, _ = shop
    product = await catalog.create_product(backends, FIELDS, image=with_exif("JPEG"))
    for name in product.image.names():
        data = await product_images.read(backends, name)
        assert b"SecretCam" not in data and not decoded(data).getexif()


async def test_replacing_the_image_removes_the_old_files_after_the_write(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    old = set(product.image.names())
    edit = await catalog.edit_product(
        backends, product.product_id, {}, image=picture("WEBP", color=(10, 200, 10))
    )
    new = set(edit.product.image.names())
    assert not old & new
    assert files.names() == new
    assert edit.product.image_url == f"/media/{edit.product.image.page.key}"


async def test_removing_the_image_removes_its_files_and_its_url(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    edit = await catalog.edit_product(backends, product.product_id, {}, remove_image=True)
    assert edit.product.image is None and edit.product.image_url == ""
    assert files.names() == set()


async def test_choosing_another_image_url_drops_the_uploaded_image(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    url = "/static/img/products/compute.svg"
    edit = await catalog.edit_product(backends, product.product_id, {"image_url": url})
    assert edit.product.image is None and edit.product.image_url == url
    assert files.names() == set()


async def test_an_edit_that_leaves_the_image_alone_keeps_its_files(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    edit = await catalog.edit_product(
        backends, product.product_id, {"name": "Renamed", "image_url": product.image_url}
    )
    assert edit.product.image == product.image
    assert files.names() == set(product.image.names())


async def test_a_stock_change_with_a_new_image_is_one_write_and_cleans_up(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    edit = await catalog.edit_product(
        backends, product.product_id, {}, stock_delta=2, image=picture("JPEG")
    )
    assert edit.product.stock == 6
    assert files.names() == set(edit.product.image.names())
    stored = await backends.catalog.fetch(product.product_id)
    assert stored.image == edit.product.image


async def test_deleting_the_product_removes_its_files(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    await catalog.delete_product(backends, product.product_id)
    assert files.names() == set()


async def test_a_refused_upload_creates_nothing(shop):
    backends, files = shop
    before = len(await backends.catalog.index())
    with pytest.raises(DomainError) as refused:
        await catalog.create_product(backends, FIELDS, image=b"plain text, named image.png")
    assert refused.value.code == ErrorCode.IMAGE_TYPE
    assert len(await backends.catalog.index()) == before
    assert files.names() == set()


async def test_a_refused_write_leaves_no_new_files(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    with pytest.raises(DomainError) as refused:
        await catalog.edit_product(
            backends, product.product_id, {}, stock_delta=-100, image=picture("JPEG")
        )
    assert refused.value.code == ErrorCode.STOCK_BELOW_ZERO
    assert files.names() == set(product.image.names())


async def test_an_image_for_a_product_that_is_gone_is_a_404_and_leaves_no_file(shop):
    backends, files = shop
    with pytest.raises(DomainError) as refused:
        await catalog.edit_product(backends, "PROD-NOPE", {}, image=picture("PNG"))
    assert refused.value.code == ErrorCode.PRODUCT_NOT_FOUND
    assert files.names() == set()


async def test_two_products_with_the_same_picture_share_no_file(shop):
    backends, files = shop
    data = picture("PNG")
    first = await catalog.create_product(backends, FIELDS, image=data)
    second = await catalog.create_product(backends, {**FIELDS, "name": "Twin"}, image=data)
    assert not set(first.image.names()) & set(second.image.names())
    await catalog.delete_product(backends, first.product_id)
    assert files.names() == set(second.image.names())


async def test_the_seed_keeps_its_svg_artwork(shop, seed_products):
    backends, _ = shop
    await catalog.load_products(backends, seed_products[:3])
    for entry in seed_products[:3]:
        product = await backends.catalog.fetch(entry["product_id"])
        assert product.image is None and product.image_url == entry["image_url"]


def test_an_image_url_under_media_must_be_a_media_name():
    from cloudstore.domain.product_rules import check_image_url

    assert check_image_url("/media/" + "a" * 40 + ".webp")
    with pytest.raises(InvalidInput):
        check_image_url("/media/../secret.webp")
    with pytest.raises(InvalidInput):
        check_image_url("/media/x.svg")


async def test_a_stale_media_url_from_an_old_form_does_not_undo_a_replacement(shop):
    backends, files = shop
    product = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    replaced = await catalog.edit_product(backends, product.product_id, {}, image=picture("JPEG"))
    # A form opened before the replacement sends the old image's URL with its edit.
    edit = await catalog.edit_product(
        backends, product.product_id, {"name": "Late edit", "image_url": product.image_url}
    )
    assert edit.product.name == "Late edit"
    assert edit.product.image == replaced.product.image
    assert edit.product.image_url == replaced.product.image_url
    assert files.names() == set(replaced.product.image.names())


async def test_a_media_url_without_an_upload_is_not_taken_on_create(shop):
    backends, _ = shop
    other = await catalog.create_product(backends, FIELDS, image=picture("PNG"))
    product = await catalog.create_product(
        backends, {**FIELDS, "name": "Borrower", "image_url": other.image_url}
    )
    assert product.image is None and product.image_url == ""
