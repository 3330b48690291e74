"""Real backends for the whole test session: PostgreSQL (the machine's on 127.0.0.1:5432 when
it answers, else an embedded pgserver) and one local DynamoDB server process (moto) on a free
port. Each test gets its own DynamoDB tables and unique emails, so tests never share data.

Only fixtures and hooks live here; helpers that tests import are in `tests/helpers/`."""

from __future__ import annotations

import json
import os
import socket
import uuid

import psycopg
import pytest

from cloudstore import create_app
from cloudstore.localdynamo import start_local_dynamodb
from cloudstore.settings import Settings
from cloudstore.shop.catalog import load_products
from tests.helpers import SEED_FILE, make_settings, register
from tests.helpers import admin_token as login_new_admin


def _machine_postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A fresh database for this session, dropped at the end."""
    if os.environ.get("CLOUDSTORE_TEST_DATABASE_URL"):
        yield os.environ["CLOUDSTORE_TEST_DATABASE_URL"]
        return
    if _machine_postgres_answers():
        admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
        name = f"cloudstore_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def dynamodb(tmp_path_factory):
    local = start_local_dynamodb(tmp_path_factory.mktemp("dynamodb") / "state.json")
    yield local
    local.stop()


@pytest.fixture(scope="session")
def seed_products() -> list[dict]:
    return json.loads(SEED_FILE.read_text())


@pytest.fixture
def settings(postgres_url, dynamodb, tmp_path) -> Settings:
    return make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data")


@pytest.fixture(scope="module")
def module_settings(postgres_url, dynamodb, tmp_path_factory) -> Settings:
    """For a module whose tests may share one app (each makes its own data)."""
    return make_settings(postgres_url, dynamodb.endpoint, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
async def module_app(module_settings):
    app = create_app(module_settings)
    async with app.test_app():
        yield app


@pytest.fixture
async def app(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture
async def second_app(settings):
    """Another instance of the same shop (its database, tables and secret), with memory of
    its own: what one instance does, the other must see."""
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture
def backends(app):
    return app.extensions["cloudstore"]


@pytest.fixture
async def seeded(backends, seed_products):
    await load_products(backends, seed_products)
    return {p["product_id"]: p for p in seed_products}


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
async def customer_token(client):
    return await register(client)


@pytest.fixture
async def admin_token(app):
    return await login_new_admin(app)


# In CI every test must run: a skip there (no Chromium, no nginx, no pgserver...) means a
# missing install step, so it fails the run instead of passing quietly.
def _fail_skips_in_ci(report) -> None:
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())
