"""`cloudstore serve` as a newcomer runs it: zero config, an empty data dir, then a restart
with two workers that keeps every account, order and stock level."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ADDRESS, BACKEND_VARIABLES, free_port, unique_email


def zero_config_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES}
    env["CLOUDSTORE_DATA_DIR"] = str(data_dir)
    env["LOG_LEVEL"] = "WARNING"
    return env


def call(base: str, method: str, path: str, body=None, token=None):
    """One HTTP call; JSON bodies come back parsed, anything else as text."""
    request = urllib.request.Request(base + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            is_json = response.headers.get_content_type() == "application/json"
            return response.status, json.loads(raw) if is_json else raw.decode()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Server:
    def __init__(self, data_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cloudstore",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=zero_config_env(data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited:\n{self.process.stdout.read()}")
            try:
                if call(self.base, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError("serve did not answer /health in 120 s")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            output, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serve") / "data"


def test_serve_restart_with_two_workers_keeps_accounts_orders_and_stock(data_dir):
    first = Server(data_dir)
    try:
        status, body = call(first.base, "GET", "/api/products")
        assert status == 200 and body["total"] == 18
        status, page = call(first.base, "GET", "/")
        assert status == 200
        email = unique_email()
        status, body = call(
            first.base,
            "POST",
            "/api/auth/register",
            {"name": "Sari", "email": email, "password": "rahasia1"},
        )
        assert status == 201
        status, order = call(
            first.base,
            "POST",
            "/api/orders",
            {
                "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 2}],
                "shipping_address": ADDRESS,
            },
            token=body["token"],
        )
        assert status == 201
        admin = subprocess.run(
            [
                sys.executable,
                "-m",
                "cloudstore",
                "create-admin",
                "--email",
                "boss@example.com",
                "--password-stdin",
            ],
            env=zero_config_env(data_dir),
            input="boss-pass-1\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert admin.returncode == 0, admin.stderr
        extra = data_dir.parent / "extra.json"
        extra.write_text(
            json.dumps(
                [
                    {
                        "product_id": "EXTRA-1",
                        "name": "Outposts rack",
                        "price": 90000000,
                        "category": "compute",
                        "stock": 1,
                    },
                    {"name": "Snowcone", "price": 2500000, "category": "storage", "stock": 4},
                ]
            )
        )
        seeded = subprocess.run(
            [sys.executable, "-m", "cloudstore", "seed", "--file", str(extra)],
            env=zero_config_env(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, seeded.stderr
        time.sleep(3)  # the running server picks catalog changes up within 2 s
        assert call(first.base, "GET", "/api/products")[1]["total"] == 20
    finally:
        output = first.stop()
    assert first.process.returncode == 0, output
    assert "running at http://127.0.0.1" in output

    second = Server(data_dir, workers=2)
    try:
        status, body = call(
            second.base, "POST", "/api/auth/login", {"email": email, "password": "rahasia1"}
        )
        assert status == 200
        status, orders = call(second.base, "GET", "/api/orders", token=body["token"])
        assert [o["order_id"] for o in orders["data"]] == [order["data"]["order_id"]]
        status, product = call(second.base, "GET", "/api/products/PROD-LAMBDA-10M")
        assert product["data"]["stock"] == 198  # not re-seeded
        status, admin_login = call(
            second.base,
            "POST",
            "/api/auth/login",
            {"email": "boss@example.com", "password": "boss-pass-1"},
        )
        status, created = call(
            second.base,
            "POST",
            "/api/admin/products",
            {"name": "Snowball Edge", "price": 5000000, "category": "storage", "stock": 2},
            token=admin_login["token"],
        )
        assert status == 201
        # Both workers see the new product within the refresh interval.
        product_id = created["data"]["product_id"]
        time.sleep(3)
        seen = {call(second.base, "GET", f"/api/products/{product_id}")[0] for _ in range(10)}
        assert seen == {200}
    finally:
        second.stop()
