"""`cloudstore seed` on a live shop: existing products are left alone unless asked to overwrite,
and the counts say what happened."""

from __future__ import annotations

from decimal import Decimal

from cloudstore.shop.catalog import adjust_stock, load_products

LIVE = {
    "product_id": "SEED-LIVE",
    "name": "Lambda credits",
    "description": "as sold",
    "price": 10000,
    "category": "compute",
    "image_url": "/static/img/a.png",
    "stock": 50,
}
REPLACEMENT = {
    "product_id": "SEED-LIVE",
    "name": "Lambda credits v2",
    "description": "from the file",
    "price": 12500,
    "category": "storage",
    "image_url": "/static/img/b.png",
    "stock": 7,
}
NEW = {"product_id": "SEED-NEW", "name": "Snowcone", "price": 2500, "category": "storage"}


async def test_seed_without_overwrite_leaves_an_existing_product_untouched(backends):
    await load_products(backends, [LIVE])
    sold = await adjust_stock(backends, "SEED-LIVE", -3)  # the shop has been selling

    await load_products(backends, [REPLACEMENT, NEW])

    assert (await backends.catalog.fetch("SEED-LIVE")) == sold


async def test_seed_without_overwrite_counts_created_and_left_alone(backends):
    await load_products(backends, [LIVE])

    counts = await load_products(backends, [REPLACEMENT, NEW])

    assert (counts.created, counts.replaced, counts.left_alone) == (1, 0, 1)


async def test_seed_with_overwrite_replaces_every_field_including_stock(backends):
    await load_products(backends, [LIVE])
    before = await adjust_stock(backends, "SEED-LIVE", -3)

    await load_products(backends, [REPLACEMENT], overwrite=True)

    after = await backends.catalog.fetch("SEED-LIVE")
    assert (
        after.name,
        after.description,
        after.price,
        after.category,
        after.image_url,
        after.stock,
    ) == ("Lambda credits v2", "from the file", Decimal(12500), "storage", "/static/img/b.png", 7)
    assert after.created_at == before.created_at


async def test_seed_with_overwrite_leaves_one_copy_of_a_product_that_changed_category(backends):
    await load_products(backends, [LIVE])

    await load_products(backends, [REPLACEMENT], overwrite=True)

    listed = [p for p in (await backends.catalog.index()).by_id.values()]
    assert [(p.product_id, p.category) for p in listed] == [("SEED-LIVE", "storage")]


async def test_seed_with_overwrite_counts_created_and_replaced(backends):
    await load_products(backends, [LIVE])

    counts = await load_products(backends, [REPLACEMENT, NEW], overwrite=True)

    assert (counts.created, counts.replaced, counts.left_alone) == (1, 1, 0)


async def test_seed_of_a_new_catalog_creates_every_product(backends, seed_products):
    counts = await load_products(backends, seed_products)

    assert (counts.created, counts.replaced, counts.left_alone) == (len(seed_products), 0, 0)
