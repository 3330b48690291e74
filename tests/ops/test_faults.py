"""Backends that fail or hang: answers come within seconds, and the app recovers by itself.

These tests stop, pause (SIGSTOP) and restart their own PostgreSQL (pgserver) and their own
DynamoDB server process, so the rest of the suite's shared backends are never touched.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

import psutil
import pytest

from cloudstore import create_app
from cloudstore.localdynamo import start_local_dynamodb
from cloudstore.shop.catalog import load_products
from tests.helpers import ADDRESS, bearer, unique_email

pgserver = pytest.importorskip("pgserver")


@asynccontextmanager
async def running(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app, app.extensions["cloudstore"]


def pause(pid: int) -> list[psutil.Process]:
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    return processes


def resume(processes: list[psutil.Process]) -> None:
    for process in processes:
        process.send_signal(signal.SIGCONT)


async def timed(call):
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


@pytest.fixture
def own_dynamodb(tmp_path):
    local = start_local_dynamodb(tmp_path / "dynamo-state.json", save_interval=0.5)
    yield local
    local.stop()


@pytest.fixture
def own_postgres():
    # pgserver runs PostgreSQL as its own OS user: the data dir must be reachable by it,
    # which pytest's private tmp dirs are not.
    parent = Path(tempfile.mkdtemp(prefix="cloudstore-pg-"))
    parent.chmod(0o755)
    server = pgserver.get_server(parent / "pg", cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(parent, ignore_errors=True)


async def login_token(client) -> str:
    email = unique_email()
    response = await client.post(
        "/api/auth/register", json={"name": "Rina", "email": email, "password": "rahasia1"}
    )
    return (await response.get_json())["token"]


async def test_dynamodb_hanging_gives_a_503_within_seconds_then_recovers(
    settings, own_dynamodb, seed_products
):
    async with running(settings.with_overrides(dynamodb_endpoint=own_dynamodb.endpoint)) as (
        app,
        backends,
    ):
        await load_products(backends, seed_products)
        client = app.test_client()
        token = await login_token(client)
        paused = pause(own_dynamodb.process.pid)
        try:
            response, seconds = await timed(client.get("/api/cart", headers=bearer(token)))
            page, _ = await timed(client.get("/orders", headers=bearer(token)))
        finally:
            resume(paused)
        assert response.status_code == 503 and seconds < 8
        assert (await response.get_json())["success"] is False
        assert response.headers["Retry-After"]
        assert page.status_code == 503 and "<html" in (await page.get_data(as_text=True)).lower()
        # Once DynamoDB answers again, so does the app: no restart needed.
        assert (await client.get("/api/cart", headers=bearer(token))).status_code == 200


async def test_dynamodb_down_gives_503_and_the_app_reconnects_when_it_returns(
    settings, tmp_path, seed_products
):
    state = tmp_path / "dynamo.json"
    first = start_local_dynamodb(state, save_interval=0.2)
    port = int(first.endpoint.rsplit(":", 1)[1])
    async with running(settings.with_overrides(dynamodb_endpoint=first.endpoint)) as (
        app,
        backends,
    ):
        await load_products(backends, seed_products)
        client = app.test_client()
        token = await login_token(client)
        first.stop()
        response, seconds = await timed(client.get("/api/orders", headers=bearer(token)))
        assert response.status_code == 503 and seconds < 8
        second = start_local_dynamodb(state, port=port)
        try:
            response = await client.get("/api/orders", headers=bearer(token))
            assert response.status_code == 200
        finally:
            second.stop()


async def test_postgres_down_keeps_the_catalog_and_gives_503_for_logins_then_recovers(
    settings, own_postgres, seeded
):
    url = own_postgres.get_uri()
    async with running(settings.with_overrides(database_url=url)) as (app, _backends):
        client = app.test_client()
        email = unique_email()
        await client.post(
            "/api/auth/register", json={"name": "Tono", "email": email, "password": "rahasia1"}
        )
        pgdata = own_postgres.pgdata
        own_postgres.cleanup()  # stops the server
        login, seconds = await timed(
            client.post("/api/auth/login", json={"email": email, "password": "rahasia1"})
        )
        assert login.status_code == 503 and seconds < 10
        assert (await client.get("/api/products")).status_code == 200
        assert (await client.get("/")).status_code == 200
        restarted = pgserver.get_server(pgdata, cleanup_mode="stop")
        try:
            for _ in range(20):
                login = await client.post(
                    "/api/auth/login", json={"email": email, "password": "rahasia1"}
                )
                if login.status_code == 200:
                    break
                await asyncio.sleep(0.5)
            assert login.status_code == 200
        finally:
            restarted.cleanup()


async def test_postgres_hanging_gives_a_503_within_seconds(settings, own_postgres, seeded):
    async with running(settings.with_overrides(database_url=own_postgres.get_uri())) as (app, _):
        client = app.test_client()
        email = unique_email()
        await client.post(
            "/api/auth/register", json={"name": "Tono", "email": email, "password": "rahasia1"}
        )
        paused = pause(own_postgres.get_pid())
        try:
            login, seconds = await timed(
                client.post("/api/auth/login", json={"email": email, "password": "rahasia1"})
            )
        finally:
            resume(paused)
        assert login.status_code == 503 and seconds < 10


async def test_checkout_interrupted_by_an_outage_writes_nothing_and_its_retry_is_safe(
    settings, own_dynamodb, seed_products
):
    async with running(settings.with_overrides(dynamodb_endpoint=own_dynamodb.endpoint)) as (
        app,
        backends,
    ):
        await load_products(backends, seed_products)
        client = app.test_client()
        token = await login_token(client)
        body = {
            "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
            "shipping_address": dict(ADDRESS),
        }
        headers = {**bearer(token), "Idempotency-Key": "outage-1"}
        paused = pause(own_dynamodb.process.pid)
        try:
            failed = await client.post("/api/orders", json=body, headers=headers)
        finally:
            resume(paused)
        assert failed.status_code == 503
        retry = await client.post("/api/orders", json=body, headers=headers)
        again = await client.post("/api/orders", json=body, headers=headers)
        assert retry.status_code == again.status_code == 201
        orders = await (await client.get("/api/orders", headers=bearer(token))).get_json()
        assert orders["count"] == 1
        product = await backends.catalog.fetch("PROD-LAMBDA-10M")
        assert product.stock == 199
