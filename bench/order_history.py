"""The order path with history in the local DynamoDB (issue 12, item 4).

Measures, in-process through the app's test client (JWT, Quart, aioboto3, the local
DynamoDB over HTTP): placing an order, listing a customer's orders, and the admin order
lists (a Query on the `orders_by_time` and `orders_by_status` GSIs), p50 and p99, on

1. an empty store (the 18 seed products, no orders), and
2. the same store with 10,000 more products and 50,000 orders (made by cloning an order the
   app placed, spread over 2,000 customers; the measured customer has 25),
3. (2) again with moto's own Query (``fast_query=False``), for contrast, fewer samples,

plus the local DynamoDB's RSS, the time of a compaction (a backup snapshot, the same work)
and the customer-list p99 while one runs.

    python bench/order_history.py [--orders 50000] [--products 10000] [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from ulid import ULID

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from run import postgres  # noqa: E402

from cloudstore import create_app  # noqa: E402
from cloudstore.localdynamo import start_local_dynamodb  # noqa: E402
from cloudstore.localdynamo.state import load_snapshot, write_snapshot  # noqa: E402
from cloudstore.shop.catalog import load_products  # noqa: E402
from tests.helpers import (  # noqa: E402
    ADDRESS,
    SEED_FILE,
    admin_token,
    bearer,
    make_settings,
    register,  # noqa: E402
)

ORDER = {
    "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
    "shipping_address": dict(ADDRESS),
}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    failed = FAILED.get(id(samples), 0)
    note = f" ({failed}/{len(samples)} answered 503)" if failed else ""
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms{note}"


FAILED: dict[int, int] = {}  # id(list of samples) -> answers that were not 2xx


async def timed(call, samples: int) -> list[float]:
    """Durations of ``samples`` calls; answers other than 2xx (moto's own Query runs past the
    app's deadline with history: 503) are counted in FAILED."""
    out: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        reply = await call()
        out.append(time.perf_counter() - started)
        if reply.status_code not in (200, 201):
            FAILED[id(out)] = FAILED.get(id(out), 0) + 1
    return out


async def measure(settings, endpoint: str, samples: int, tokens: dict | None) -> tuple:
    app = create_app(settings.with_overrides(dynamodb_endpoint=endpoint))
    async with app.test_app():
        backends = app.extensions["cloudstore"]
        client = app.test_client()
        if tokens is None:
            seed = json.loads(SEED_FILE.read_text())
            for product in seed:
                product["stock"] = 10_000_000
            await load_products(backends, seed)
            tokens = {"customer": await register(client), "admin": await admin_token(app)}
        customer, admin = bearer(tokens["customer"]), bearer(tokens["admin"])
        warm_up = await client.post("/api/orders", json=ORDER, headers=customer)
        user_id = (await warm_up.get_json())["data"].get("user_id", "")
        results = {
            "place an order": await timed(
                lambda: client.post("/api/orders", json=ORDER, headers=customer), samples
            ),
            "a customer's orders": await timed(
                lambda: client.get("/api/orders", headers=customer), samples
            ),
            "admin orders (GSI)": await timed(
                lambda: client.get("/api/admin/orders", headers=admin), samples
            ),
            "admin orders by status (GSI)": await timed(
                lambda: client.get("/api/admin/orders?status=paid", headers=admin), samples
            ),
        }
    return results, tokens, user_id


def grow(state: Path, settings, user_id: str, n_orders: int, n_products: int) -> None:
    """Add cloned products and orders to a stopped store's snapshot."""
    snapshot = load_snapshot(state)
    rng = random.Random(5)
    tables = {spec["TableName"]: spec for _, spec in snapshot.tables()}
    products = tables[settings.products_table]["Items"]
    template = next(p for p in products if p.get("product_id", {}).get("S") == "PROD-LAMBDA-10M")
    for i in range(n_products):
        clone = copy.deepcopy(template)
        clone["product_id"] = {"S": f"PROD-BENCH-{i:05d}"}
        clone["name"] = {"S": f"Bench product {i}"}
        products.append(clone)
    orders = tables[settings.orders_table]["Items"]
    template = next(o for o in orders if "order_list" in o)
    start = time.time() - 86400 * 365
    statuses = ["pending", "paid", "shipped", "delivered", "cancelled"]
    for i in range(n_orders):
        clone = copy.deepcopy(template)
        owner = user_id if i % (n_orders // 25 or 1) == 0 else f"bench-user-{rng.randrange(2000)}"
        ulid = ULID.from_timestamp(start + i * (86400 * 365 / n_orders))
        clone["user_id"] = {"S": owner}
        clone["order_id"] = {"S": f"ORD-{ulid}"}
        clone["status"] = {"S": rng.choice(statuses)}
        orders.append(clone)
    document = {"format": 2, "generation": snapshot.generation, "regions": snapshot.regions}
    write_snapshot(state, document)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cloudstore-history-") as tmp, postgres() as pg:
        state = Path(tmp) / "dynamo.json"
        settings = make_settings(pg, "http://unused", Path(tmp) / "data")
        local = start_local_dynamodb(state)
        rss_empty = psutil.Process(local.pid).memory_info().rss
        empty, tokens, user_id = asyncio.run(measure(settings, local.endpoint, args.samples, None))
        print("empty:", {k: percentiles(v) for k, v in empty.items()}, flush=True)
        assert local.stop() == 0
        grow(state, settings, user_id, args.orders, args.products)
        size = state.stat().st_size

        started = time.perf_counter()
        local = start_local_dynamodb(state, ready_timeout=900)
        start_seconds = time.perf_counter() - started
        history, _, _ = asyncio.run(measure(settings, local.endpoint, args.samples, tokens))
        rss_history = psutil.Process(local.pid).memory_info().rss
        print("history:", {k: percentiles(v) for k, v in history.items()}, flush=True)
        print(f"RSS {rss_empty / 1e6:.0f} -> {rss_history / 1e6:.0f} MB", flush=True)
        started = time.perf_counter()
        backup = subprocess.Popen(  # noqa: S603 - a compaction's work, as a backup
            [sys.executable, "-m", "cloudstore.localdynamo.compact", "--state", str(state)]
            + ["--to", str(Path(tmp) / "backup.json")]
        )

        async def during() -> list[float]:
            app = create_app(settings.with_overrides(dynamodb_endpoint=local.endpoint))
            async with app.test_app():
                client = app.test_client()
                customer = bearer(tokens["customer"])
                samples: list[float] = []
                while backup.poll() is None:
                    samples += await timed(lambda: client.get("/api/orders", headers=customer), 1)
                return samples

        while_compacting = asyncio.run(during())
        compaction = time.perf_counter() - started
        assert local.stop() == 0

        local = start_local_dynamodb(state, fast_query=False, ready_timeout=900)
        moto, _, _ = asyncio.run(
            measure(settings, local.endpoint, max(5, args.samples // 10), tokens)
        )
        local.stop()

    print(f"\n## Order path, empty store vs {args.orders:,} orders + {args.products:,} products\n")
    print(
        f"snapshot {size / 1e6:.0f} MB; local DynamoDB RSS {rss_empty / 1e6:.0f} MB empty, "
        f"{rss_history / 1e6:.0f} MB with history; start {start_seconds:.0f}s; "
        f"a compaction took {compaction:.1f}s\n"
    )
    print("| operation | empty | with history | with history, moto's Query |")
    print("| --- | --- | --- | --- |")
    for name in empty:
        rows.append((name, empty[name], history[name], moto[name]))
        print(
            f"| {name} | {percentiles(empty[name])} | {percentiles(history[name])} "
            f"| {percentiles(moto[name])} |"
        )
    if while_compacting:
        print(
            f"\na customer's orders while a compaction ran ({len(while_compacting)} requests): "
            f"{percentiles(while_compacting)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
