"""Crash and ledger: the app's real checkouts and cancels run against a local DynamoDB that
compacts (takes snapshots) under the load; it is killed with SIGKILL mid-load and started
again on the same port. Every write the app confirmed is there, and stock plus the
quantities of live orders equals the initial stock, in the snapshot alone and after the
restart."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import boto3

from cloudstore import create_app
from cloudstore.localdynamo import start_local_dynamodb
from cloudstore.localdynamo.state import load_snapshot
from cloudstore.shop.catalog import load_products
from tests.helpers import ADDRESS, bearer, register
from tests.helpers.localdynamo import CONFIG, REGION

WATCHED = ("PROD-RDS-POSTGRES-M6G", "PROD-LAMBDA-10M", "PROD-VPC-STARTER")
LOAD_SECONDS = 2.0


@asynccontextmanager
async def running(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app, app.extensions["cloudstore"]


class Ledger:
    """What the app confirmed: orders (201) with their lines, and cancels (200)."""

    def __init__(self) -> None:
        self.orders: dict[str, list[tuple[str, int]]] = {}
        self.cancels: set[str] = set()


async def shopper(client, token: str, seed: int, ledger: Ledger, stop: asyncio.Event) -> None:
    rng = random.Random(seed)
    mine: list[str] = []
    while not stop.is_set():
        if mine and rng.random() < 0.35:
            order_id = mine.pop(rng.randrange(len(mine)))
            reply = await client.post(f"/api/orders/{order_id}/cancel", headers=bearer(token))
            if reply.status_code == 200:
                ledger.cancels.add(order_id)
            continue
        lines = [(p, rng.randint(1, 2)) for p in rng.sample(WATCHED, rng.randint(1, 2))]
        body = {
            "items": [{"product_id": p, "quantity": q} for p, q in lines],
            "shipping_address": dict(ADDRESS),
        }
        reply = await client.post("/api/orders", json=body, headers=bearer(token))
        if reply.status_code == 201:
            order_id = (await reply.get_json())["data"]["order_id"]
            ledger.orders[order_id] = lines
            mine.append(order_id)
        elif reply.status_code >= 500:
            await asyncio.sleep(0.05)


def _number(value: dict[str, Any]) -> int:
    return int(value["N"])


def balance(products: list[dict], orders: list[dict]) -> dict[str, int]:
    """Per watched product: stock + quantities in orders that are not cancelled."""
    totals = {p["product_id"]["S"]: _number(p["stock"]) for p in products if "stock" in p}
    totals = {pid: totals[pid] for pid in WATCHED}
    for order in orders:
        if "order_list" not in order or order["status"]["S"] == "cancelled":
            continue
        for line in order["items"]["L"]:
            product_id = line["M"]["product_id"]["S"]
            if product_id in totals:
                totals[product_id] += _number(line["M"]["quantity"])
    return totals


def scan(endpoint: str, table: str) -> list[dict]:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION, config=CONFIG)
    return list(
        item
        for page in client.get_paginator("scan").paginate(TableName=table)
        for item in page["Items"]
    )


async def test_kill_9_under_checkouts_and_cancels_loses_no_confirmed_write(
    settings, tmp_path: Path, seed_products
) -> None:
    state = tmp_path / "dynamo.json"
    local = start_local_dynamodb(state, compact_bytes=40_000, compact_interval=0.2, verbose=True)
    port = int(local.endpoint.rsplit(":", 1)[1])
    ledger = Ledger()
    initial = {p["product_id"]: p["stock"] for p in seed_products if p["product_id"] in WATCHED}
    try:
        overrides = settings.with_overrides(dynamodb_endpoint=local.endpoint)
        async with running(overrides) as (app, backends):
            await load_products(backends, seed_products)
            client = app.test_client()
            tokens = [await register(client) for _ in range(4)]
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(shopper(client, token, seed, ledger, stop))
                for seed, token in enumerate(tokens)
            ]
            deadline = time.monotonic() + 40
            while "compacted" not in local.stderr_tail() and time.monotonic() < deadline:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.2)  # a snapshot taken under the load
            await asyncio.sleep(LOAD_SECONDS)  # more load: journal records past it
            local.process.kill()  # mid-load: requests are in flight
            await asyncio.to_thread(local.process.wait)
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.gather(*tasks)
            log_text = local.stderr_tail()
            local.stop()
            assert "compacted" in log_text  # snapshots were taken under the load
            assert ledger.orders and ledger.cancels

            snapshot = load_snapshot(state)
            assert snapshot is not None
            tables = {spec["TableName"]: spec["Items"] for _, spec in snapshot.tables()}
            from_snapshot = balance(
                tables[settings.products_table], tables.get(settings.orders_table, [])
            )
            assert from_snapshot == initial

            local = start_local_dynamodb(state, port=port)
            orders = await asyncio.to_thread(scan, local.endpoint, settings.orders_table)
            products = await asyncio.to_thread(scan, local.endpoint, settings.products_table)
            assert balance(products, orders) == initial
            by_id = {o["order_id"]["S"]: o for o in orders if "order_list" in o}
            assert set(ledger.orders) <= set(by_id)
            assert {o for o in ledger.cancels if by_id[o]["status"]["S"] != "cancelled"} == set()
            # the app, untouched, works against the restarted endpoint
            reply = await client.get("/api/orders", headers=bearer(tokens[0]))
            assert reply.status_code == 200
    finally:
        local.stop()
