"""Real backends for the whole test session: PostgreSQL (the machine's on 127.0.0.1:5432 when
it answers, else an embedded pgserver) and one local DynamoDB server process (moto) on a free
port. Each test gets its own DynamoDB tables and unique emails, so tests never share data."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import psycopg
import pytest

from cloudstore import create_app
from cloudstore.localdynamo import start_local_dynamodb
from cloudstore.settings import Settings
from cloudstore.shop.accounts import create_admin
from cloudstore.shop.catalog import load_products

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "seed" / "products.json"
ADDRESS = {
    "name": "Budi Santoso",
    "phone": "+62 812 3456 7890",
    "address": "Jl. Sudirman No. 1",
    "city": "Jakarta",
    "postal_code": "10220",
}


# Variables that would point a server started by a test at some other backend.
BACKEND_VARIABLES = (
    "RDS_HOST",
    "DYNAMODB_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "JWT_SECRET_KEY",
    "CLOUDSTORE_DATABASE_URL",
)


def free_port() -> int:
    """A port nobody listens on now: the machine is shared, so never a fixed one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def make_settings(postgres_url: str, dynamodb_endpoint: str, data_dir: Path, **overrides):
    """Settings for one app under test: shared backends, tables of its own."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    values = dict(
        database_url=postgres_url,
        dynamodb_endpoint=dynamodb_endpoint,
        jwt_secret_key="test-secret-" + uuid.uuid4().hex,
        products_table=f"{prefix}_Products",
        orders_table=f"{prefix}_Orders",
        cart_table=f"{prefix}_Cart",
        data_dir=data_dir,
        catalog_refresh_seconds=0,
        backend_timeout=2.0,
        bcrypt_rounds=4,
        log_level="WARNING",
    )
    return Settings(**{**values, **overrides})


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


async def admin_headers(app) -> dict:
    email = unique_email("admin")
    await create_admin(
        app.extensions["cloudstore"], email=email, password="admin-pass-1", name="Admin"
    )
    response = await app.test_client().post(
        "/api/auth/login", json={"email": email, "password": "admin-pass-1"}
    )
    return bearer((await response.get_json())["token"])


@pytest.fixture
async def app(settings):
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


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


async def register(client, name: str = "Budi", email: str | None = None, password="rahasia1"):
    response = await client.post(
        "/api/auth/register",
        json={"name": name, "email": email or unique_email(), "password": password},
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return (await response.get_json())["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def customer_token(client):
    return await register(client)


@pytest.fixture
async def admin_token(client, backends):
    email = unique_email("admin")
    await create_admin(backends, email=email, password="admin-pass-1", name="Admin")
    response = await client.post(
        "/api/auth/login", json={"email": email, "password": "admin-pass-1"}
    )
    return (await response.get_json())["token"]


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
