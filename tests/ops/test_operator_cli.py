"""What an operator sees from the command line: the version, defaults in --help, one line for
a port already taken, no warning at start, and a line per backend naming what serve uses."""

from __future__ import annotations

import importlib.metadata
import socket
import subprocess
import sys
import time

from cloudstore.cli import describe_backends, parser
from cloudstore.settings import Settings
from tests.helpers import free_port
from tests.helpers.serve import call, zero_config_env


def cloudstore(*args: str, env: dict | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "cloudstore", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_version_comes_from_the_package_metadata():
    result = cloudstore("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cloudstore {importlib.metadata.version('cloudstore')}"


def test_serve_help_shows_the_defaults():
    result = cloudstore("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "address to listen on (default: 127.0.0.1)" in text
    assert "port; 0 picks a free one (default: 5000)" in text
    assert "hypercorn worker processes (default: 1)" in text


def test_every_option_with_a_default_shows_it_in_help(monkeypatch):
    # Wide enough that argparse never wraps a default (it breaks paths at hyphens).
    monkeypatch.setenv("COLUMNS", "1000")
    commands = parser()._subparsers._group_actions[0].choices
    for name, command in commands.items():
        text = " ".join(command.format_help().split())
        for action in command._actions:
            if action.default not in (None, False, "==SUPPRESS==") and not action.required:
                assert f"(default: {action.default})" in text, f"{name} {action.dest}"


def test_a_port_already_in_use_is_one_line_not_a_traceback(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cloudstore("serve", "--port", str(port), env=zero_config_env(tmp_path / "data"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_on_a_fresh_data_dir_warns_nothing_and_names_its_backends(tmp_path):
    env = zero_config_env(tmp_path / "data")
    env.pop("XDG_RUNTIME_DIR", None)  # as under systemd or sudo: platformdirs would warn
    port = free_port()
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "cloudstore", "serve", "--port", str(port), "--no-seed"],
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if call(f"http://127.0.0.1:{port}", "GET", "/health", timeout=5)[0] == 200:
                        break
                except OSError:
                    time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=60)
    printed = stdout.read_text()
    warnings = [line for line in stderr.read_text().splitlines() if "Warning" in line]
    assert warnings == []
    assert f"Cloud Store: using PostgreSQL: embedded, in {tmp_path / 'data' / 'postgres'}" in (
        printed
    )
    assert "Cloud Store: using DynamoDB: local, http://127.0.0.1:" in printed


def test_the_postgresql_line_names_host_and_database_but_never_the_password():
    settings = Settings(
        rds_host="db.example.internal",
        rds_database="shop",
        rds_password="s3cret-value",
        rds_sslmode="verify-full",
        dynamodb_mode="aws",
        aws_region="ap-southeast-3",
    )
    lines = describe_backends(settings, settings)
    assert lines[0] == ("PostgreSQL: db.example.internal:5432, database shop, sslmode verify-full")
    assert "s3cret-value" not in " ".join(lines)


def test_the_dynamodb_line_names_the_aws_region_and_where_credentials_come_from():
    settings = Settings(rds_host="/var/run/postgresql", dynamodb_mode="aws", aws_region="eu-west-1")
    lines = describe_backends(settings, settings)
    assert lines[0].startswith("PostgreSQL: /var/run/postgresql, database ecommerce")
    assert lines[1] == "DynamoDB: AWS region eu-west-1, the default AWS credential chain"


def test_the_dynamodb_line_names_a_configured_endpoint():
    settings = Settings(rds_host="db", dynamodb_endpoint="http://dynamo.internal:8000")
    assert (
        describe_backends(settings, settings)[1] == "DynamoDB: endpoint http://dynamo.internal:8000"
    )


def test_a_database_url_is_described_without_its_password():
    settings = Settings(
        database_url="postgresql://shop:pa55word@db.internal:6432/orders?sslmode=require",
        dynamodb_endpoint="http://127.0.0.1:8000",
    )
    postgres = describe_backends(settings, settings)[0]
    assert postgres == "PostgreSQL: db.internal:6432, database orders, sslmode require"
