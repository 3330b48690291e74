"""A rolling upgrade loses nothing: the previous release's code (the commit named in
migrations/postgres/PREVIOUS_RELEASE, taken with `git archive`) and the current code run as
two real hypercorn instances against ONE PostgreSQL database and one set of DynamoDB tables.

The order is an operator's: the old release makes the database; the new instance starts and
applies its migrations (expand); an old instance restarts against the migrated database (its
runner leaves versions it does not know alone); then accounts, logins, sessions and orders
made on either instance work on the other.

Why processes and not SQL alone: replaying the previous migration set's statements would
only prove that the old SQL parses on the new schema, not that the old code's queries,
inserts and session checks still succeed. Running the old code itself does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from io import BytesIO
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.helpers import ADDRESS, BACKEND_VARIABLES, PASSWORD, ROOT, free_port, unique_email
from tests.helpers.serve import call

RELEASE_FILE = ROOT / "migrations" / "postgres" / "PREVIOUS_RELEASE"


def previous_release() -> str:
    lines = [line.strip() for line in RELEASE_FILE.read_text().splitlines()]
    [commit] = [line for line in lines if line and not line.startswith("#")]
    return commit


def checkout(commit: str, target: Path) -> Path:
    """The release's files (as `git archive` gives them) in `target`; skips without git or
    without that commit (a shallow clone)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    archive = subprocess.run(
        [git, "-C", str(ROOT), "archive", "--format=tar", commit],
        capture_output=True,
        timeout=120,
    )
    if archive.returncode != 0:
        pytest.skip(
            f"commit {commit[:12]} is not in this clone (fetch full history): "
            + archive.stderr.decode(errors="replace").strip()
        )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture
def fresh_database(postgres_url):
    """A database of its own: the old release must be the one that creates the schema."""
    name = f"cloudstore_upgrade_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(postgres_url, dbname=name)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def shop_env(fresh_database, dynamodb, tmp_path) -> dict:
    """One shop's settings, shared by every instance (as one env file on every box)."""
    prefix = f"u{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES}
    env.update(
        CLOUDSTORE_DATABASE_URL=fresh_database,
        DYNAMODB_ENDPOINT=dynamodb.endpoint,
        DYNAMODB_PRODUCTS_TABLE=f"{prefix}_Products",
        DYNAMODB_ORDERS_TABLE=f"{prefix}_Orders",
        DYNAMODB_CART_TABLE=f"{prefix}_Cart",
        JWT_SECRET_KEY="upgrade-" + uuid.uuid4().hex,
        BCRYPT_ROUNDS="4",
        LOGIN_LIMIT="1000/minute",
        REGISTER_LIMIT="1000/minute",
        LOG_LEVEL="WARNING",
    )
    return env


class Instance:
    """hypercorn running one tree's app (`cwd` and PYTHONPATH are that tree)."""

    def __init__(self, name: str, tree: Path, env: dict, workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data_dir = workdir / f"data-{name}-{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{self.port}"]
            + ["cloudstore.asgi:app"],
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree), "CLOUDSTORE_DATA_DIR": str(data_dir)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.output()}")
            try:
                if call(self.base, "GET", "/health/ready", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"{name} was not ready in 90 s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    # -- what a customer does --------------------------------------------------------------

    def register(self, email: str) -> str:
        status, body = call(
            self.base,
            "POST",
            "/api/auth/register",
            {"name": "Budi", "email": email, "password": PASSWORD},
        )
        assert status == 201, f"{self.name} register: {status} {body}"
        return body["token"]

    def login(self, email: str) -> str:
        status, body = call(
            self.base, "POST", "/api/auth/login", {"email": email, "password": PASSWORD}
        )
        assert status == 200, f"{self.name} login: {status} {body}"
        return body["token"]

    def verify(self, token: str) -> str:
        status, body = call(self.base, "GET", "/api/auth/verify", token=token)
        assert status == 200, f"{self.name} verify: {status} {body}"
        return body["user"]["email"]

    def order(self, token: str) -> str:
        status, body = call(
            self.base,
            "POST",
            "/api/orders",
            {
                "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
                "shipping_address": dict(ADDRESS),
            },
            token=token,
        )
        assert status == 201, f"{self.name} order: {status} {body}"
        return body["data"]["order_id"]

    def orders(self, token: str) -> set[str]:
        status, body = call(self.base, "GET", "/api/orders", token=token)
        assert status == 200, f"{self.name} orders: {status} {body}"
        return {order["order_id"] for order in body["data"]}


def applied_versions(database: str) -> list[int]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [version for (version,) in rows]


def test_previous_release_and_current_code_share_one_database_through_an_upgrade(
    shop_env, fresh_database, tmp_path
):
    old_tree = checkout(previous_release(), tmp_path / "previous")
    # The previous release makes the schema and tables and loads its seed catalog.
    seeded = subprocess.run(
        [sys.executable, "-m", "cloudstore", "seed"],
        cwd=old_tree,
        env={**shop_env, "PYTHONPATH": str(old_tree), "CLOUDSTORE_DATA_DIR": str(tmp_path / "s")},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    before = applied_versions(fresh_database)

    instances: list[Instance] = []
    try:
        old = Instance("previous", old_tree, shop_env, tmp_path)
        instances.append(old)
        alice = unique_email("alice")
        alice_order = old.order(old.register(alice))

        # The new release starts on another box and migrates (expand only).
        new = Instance("current", ROOT, shop_env, tmp_path)
        instances.append(new)
        after = applied_versions(fresh_database)
        assert after[: len(before)] == before

        # An old instance restarting mid-upgrade starts on the migrated database.
        old.stop()
        old = Instance("previous-restarted", old_tree, shop_env, tmp_path)
        instances.append(old)

        # Made before the upgrade, used after it on the new code.
        assert alice_order in new.orders(new.login(alice))

        # Registered on the new code: logs in, orders on the old.
        bob = unique_email("bob")
        bob_new_token = new.register(bob)
        bob_old_order = old.order(old.login(bob))
        assert bob_old_order in new.orders(bob_new_token)

        # Registered on the old code after the migration: logs in, orders on the new.
        carol = unique_email("carol")
        carol_old_token = old.register(carol)
        carol_new_order = new.order(new.login(carol))
        assert carol_new_order in old.orders(carol_old_token)

        # A session made on either instance is honoured by the other.
        assert old.verify(bob_new_token) == bob
        assert new.verify(carol_old_token) == carol
    finally:
        for instance in instances:
            instance.stop()
