"""GET /api/products and /api/products/{id}: the catalog as API consumers see it."""

from __future__ import annotations

from cloudstore.shop.catalog import adjust_stock, load_products, update_product


async def test_list_returns_every_seed_product_with_numbers_as_numbers(client, seeded):
    body = await (await client.get("/api/products")).get_json()
    assert body["success"] is True
    assert body["count"] == body["total"] == 18
    assert all(isinstance(p["price"], int) and isinstance(p["stock"], int) for p in body["data"])


async def test_category_filter_returns_only_that_category(client, seeded):
    body = await (await client.get("/api/products?category=storage")).get_json()
    assert body["total"] == sum(1 for p in seeded.values() if p["category"] == "storage")
    assert {p["category"] for p in body["data"]} == {"storage"}


async def test_search_is_case_insensitive_over_name_and_description(client, seeded):
    by_name = await (await client.get("/api/products?q=AURORA")).get_json()
    assert [p["product_id"] for p in by_name["data"]] == ["PROD-AURORA-ENTERPRISE"]
    word = seeded["PROD-VPC-STARTER"]["description"].split()[3].upper()
    by_description = await (await client.get(f"/api/products?q={word}")).get_json()
    assert "PROD-VPC-STARTER" in [p["product_id"] for p in by_description["data"]]


async def test_sorts_order_by_price_name_and_newest(client, seeded):
    async def ids(sort):
        body = await (await client.get(f"/api/products?sort={sort}")).get_json()
        return body["data"]

    assert [p["price"] for p in await ids("price_asc")] == sorted(
        p["price"] for p in seeded.values()
    )
    assert [p["price"] for p in await ids("price_desc")] == sorted(
        (p["price"] for p in seeded.values()), reverse=True
    )
    names = [p["name"] for p in await ids("name")]
    assert names == sorted(names, key=str.casefold)
    created = [p["created_at"] for p in await ids("newest")]
    assert created == sorted(created, reverse=True)


async def test_cursor_pages_through_everything_exactly_once(client, seeded):
    seen, cursor = [], None
    while True:
        url = "/api/products?limit=5&sort=price_asc" + (f"&cursor={cursor}" if cursor else "")
        body = await (await client.get(url)).get_json()
        assert body["total"] == 18
        seen += [p["product_id"] for p in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(seeded) and len(seen) == 18


async def test_list_is_never_truncated_beyond_one_dynamodb_page(client, backends):
    many = [
        {
            "product_id": f"BULK-{n:05d}",
            # Seed entries obey the API's name limit (200) now: the padding is in the description.
            "name": f"Bulk item {n}",
            "description": "padding " * 110,
            "price": 1000 + n,
            "category": "compute",
            "stock": 1,
        }
        for n in range(3000)
    ]
    await load_products(backends, many)
    body = await (await client.get("/api/products?limit=1000")).get_json()
    assert body["total"] == 3000 and body["count"] == 1000 and body["next_cursor"]


async def test_limit_outside_1_to_1000_is_a_400(client, seeded):
    for bad in ("0", "1001", "abc"):
        response = await client.get(f"/api/products?limit={bad}")
        assert response.status_code == 400
        assert (await response.get_json())["success"] is False


async def test_unknown_sort_and_garbage_cursor_are_400(client, seeded):
    assert (await client.get("/api/products?sort=cheapest")).status_code == 400
    assert (await client.get("/api/products?cursor=%%%")).status_code == 400


async def test_product_detail_by_id(client, seeded):
    body = await (await client.get("/api/products/PROD-EC2-T3MEDIUM")).get_json()
    assert body["data"]["name"] == seeded["PROD-EC2-T3MEDIUM"]["name"]
    assert body["data"]["price"] == seeded["PROD-EC2-T3MEDIUM"]["price"]


async def test_unknown_product_is_a_404_envelope(client, seeded):
    response = await client.get("/api/products/NOPE-123")
    assert response.status_code == 404
    assert await response.get_json() == {"success": False, "error": "product not found"}


async def test_product_read_by_id_is_a_query_not_a_scan(backends, seeded):
    calls = []

    def count(event_name, **kwargs):
        calls.append(event_name.rsplit(".", 1)[-1])

    backends.dynamo.client.meta.events.register("before-call.dynamodb", count)
    product = await backends.catalog.fetch("PROD-S3-STANDARD-1TB")
    assert product is not None and calls == ["Query"]


async def test_a_repeated_list_follows_a_stock_and_price_change(client, backends, seeded):
    url = "/api/products?q=t3.medium"
    before = (await (await client.get(url)).get_json())["data"][0]
    assert (await (await client.get(url)).get_json())["data"][0] == before  # a cached answer
    await adjust_stock(backends, before["product_id"], -1)
    await update_product(backends, before["product_id"], {"price": 700000})
    after = (await (await client.get(url)).get_json())["data"][0]
    assert after["stock"] == before["stock"] - 1 and after["price"] == 700000


async def test_a_cached_list_is_the_same_json_as_a_fresh_one(client, seeded):
    first = await client.get("/api/products?category=storage&limit=2")
    second = await client.get("/api/products?category=storage&limit=2")
    assert await first.get_data() == await second.get_data()
    assert second.headers["Content-Type"] == "application/json"


async def test_a_loaded_catalog_is_kept_out_of_the_cyclic_gcs_walks(backends, seeded):
    import gc

    await backends.catalog.reload()
    product = (await backends.catalog.index()).get("PROD-EC2-T3MEDIUM")
    assert gc.is_tracked(product)
    assert not any(tracked is product for tracked in gc.get_objects())  # frozen
