"""What tests share besides fixtures: addresses, accounts, settings, ports.

Fixtures live in `tests/conftest.py`; everything a test module imports comes from here."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from cloudstore.settings import Settings
from cloudstore.shop.accounts import create_admin

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "seed" / "products.json"
DEPLOY = ROOT / "deploy"
PASSWORD = "rahasia1"
ADMIN_PASSWORD = "admin-pass-1"
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
        # Every test client comes from one address: tests raise the per-client limits
        # through the settings (the throttle's own tests set theirs).
        login_limit="1000/minute",
        register_limit="1000/minute",
    )
    return Settings(**{**values, **overrides})


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def register(client, name: str = "Budi", email: str | None = None, password=PASSWORD):
    """A new customer through the API; returns the token."""
    response = await client.post(
        "/api/auth/register",
        json={"name": name, "email": email or unique_email(), "password": password},
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return (await response.get_json())["token"]


async def admin_token(app) -> str:
    """A new admin (made as `cloudstore create-admin` does), logged in through the API."""
    email = unique_email("admin")
    await create_admin(
        app.extensions["cloudstore"], email=email, password=ADMIN_PASSWORD, name="Admin"
    )
    response = await app.test_client().post(
        "/api/auth/login", json={"email": email, "password": ADMIN_PASSWORD}
    )
    return (await response.get_json())["token"]


async def admin_headers(app) -> dict:
    return bearer(await admin_token(app))


async def place_order(
    client, token: str, product_id: str = "PROD-LAMBDA-10M", quantity: int = 2
) -> dict:
    """A customer's order through the API (201 asserted); returns its data."""
    response = await client.post(
        "/api/orders",
        json={
            "items": [{"product_id": product_id, "quantity": quantity}],
            "shipping_address": dict(ADDRESS),
        },
        headers=bearer(token),
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return (await response.get_json())["data"]
