"""`cloudstore migrate [--check]` and `init-db` as an operator runs them: a fresh PostgreSQL
database and DynamoDB tables of the test's own; the command line's `main` in this process,
and `serve` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from cloudstore.cli import main
from cloudstore.stores.catalog_changes import CHANGES_PARTITION
from cloudstore.stores.migrations import discover
from tests.helpers import BACKEND_VARIABLES, free_port
from tests.helpers.databases import fresh_database


@pytest.fixture
def env(postgres_url, dynamodb, tmp_path):
    """The environment of a shop on external backends that nothing has set up yet."""
    prefix = f"m{uuid.uuid4().hex[:10]}"
    with fresh_database(postgres_url) as url:
        values = {k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES}
        values.update(
            CLOUDSTORE_DATABASE_URL=url,
            DYNAMODB_ENDPOINT=dynamodb.endpoint,
            DYNAMODB_PRODUCTS_TABLE=f"{prefix}_Products",
            DYNAMODB_ORDERS_TABLE=f"{prefix}_Orders",
            DYNAMODB_CART_TABLE=f"{prefix}_Cart",
            JWT_SECRET_KEY="test-secret-" + uuid.uuid4().hex,
            CLOUDSTORE_DATA_DIR=str(tmp_path / "data"),
            AWS_REGION="ap-southeast-1",
            LOG_LEVEL="WARNING",
        )
        yield values


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cloudstore(env, monkeypatch, capsys):
    """Runs `cloudstore ARGS` with the test's environment, as the console script would."""
    for name in BACKEND_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(Path(env["CLOUDSTORE_DATA_DIR"]).parent)  # no stray .env file

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def product_count(env: dict) -> int:
    client = boto3.client(
        "dynamodb",
        endpoint_url=env["DYNAMODB_ENDPOINT"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    items = client.scan(TableName=env["DYNAMODB_PRODUCTS_TABLE"])["Items"]
    return sum(item["product_id"]["S"] != CHANGES_PARTITION for item in items)


def test_check_exits_1_on_a_fresh_database(cloudstore):
    assert cloudstore("migrate", "--check").returncode == 1


def test_check_lists_each_pending_migration_and_table(env, cloudstore):
    output = cloudstore("migrate", "--check").stdout.splitlines()
    assert output == [
        *(f"PostgreSQL: apply {m.label}" for m in discover()),
        f"DynamoDB: create table {env['DYNAMODB_PRODUCTS_TABLE']}",
        f"DynamoDB: create table {env['DYNAMODB_ORDERS_TABLE']} with indexes "
        "orders_by_time, orders_by_status",
        f"DynamoDB: create table {env['DYNAMODB_CART_TABLE']}",
    ]


def test_check_says_so_and_exits_2_when_postgresql_does_not_answer(env, cloudstore, monkeypatch):
    missing = env["CLOUDSTORE_DATABASE_URL"].replace("cloudstore_mig_", "cloudstore_gone_")
    monkeypatch.setenv("CLOUDSTORE_DATABASE_URL", missing)
    result = cloudstore("migrate", "--check")
    # The last line is the CLI's own; a log line about the failed connection may precede it.
    last_line = result.stderr.splitlines()[-1]
    assert result.returncode == 2
    # The cause follows, for the operator: here the database name is wrong.
    assert last_line.startswith("cloudstore migrate: PostgreSQL is unavailable (OperationalError")
    assert "does not exist" in last_line


def test_check_changes_nothing(cloudstore):
    cloudstore("migrate", "--check")
    assert cloudstore("migrate", "--check").returncode == 1


def test_check_exits_0_after_migrate(cloudstore):
    migrated = cloudstore("migrate")
    assert migrated.returncode == 0
    assert cloudstore("migrate", "--check").returncode == 0


def test_migrate_prints_what_it_did(env, cloudstore):
    output = cloudstore("migrate").stdout.splitlines()
    assert output == [
        "PostgreSQL: applied " + ", ".join(m.label for m in discover()),
        f"DynamoDB: created table {env['DYNAMODB_PRODUCTS_TABLE']}, "
        f"created table {env['DYNAMODB_ORDERS_TABLE']}, "
        f"created table {env['DYNAMODB_CART_TABLE']}",
    ]


def test_migrate_twice_does_nothing_the_second_time(cloudstore):
    cloudstore("migrate")
    assert cloudstore("migrate").stdout.splitlines() == [
        "PostgreSQL: no migration pending",
        "DynamoDB: tables and indexes ready",
    ]


def test_migrate_does_not_seed(env, cloudstore):
    cloudstore("migrate")
    assert product_count(env) == 0


def test_init_db_migrates_and_seeds_a_new_catalog(env, cloudstore):
    result = cloudstore("init-db")
    assert result.stdout.splitlines()[-1] == "loaded 18 products from products.json"
    assert product_count(env) == 18
    assert cloudstore("migrate", "--check").returncode == 0


def test_init_db_leaves_an_existing_catalog_alone(env, cloudstore):
    cloudstore("migrate")
    result = cloudstore("init-db")
    assert "loaded" not in result.stdout
    assert product_count(env) == 0


def test_check_is_clean_once_serve_has_started(env, cloudstore):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cloudstore", "serve", "--port", str(port), "--no-seed"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_health(server, f"http://127.0.0.1:{port}/health")
        check = cloudstore("migrate", "--check")
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert (check.returncode, check.stdout) == (0, "nothing pending\n")


def _wait_for_health(server: subprocess.Popen, url: str) -> None:
    for _ in range(400):
        if server.poll() is not None:
            raise AssertionError(f"serve exited:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("serve did not answer /health")
