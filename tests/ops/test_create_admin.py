"""`cloudstore create-admin` never takes the password on the command line (shell history,
`ps`): it asks twice at a terminal, or reads the first line of stdin with --password-stdin."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from cloudstore import cli
from cloudstore.cli import main
from tests.helpers import BACKEND_VARIABLES, unique_email


@pytest.fixture
def cloudstore(settings, monkeypatch, capsys, tmp_path):
    """`cloudstore ARGS` in this process against the test's backends; `stdin` is what the
    command reads, `answers` what the terminal prompt gets (None: no terminal)."""
    for name in BACKEND_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSTORE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", settings.dynamodb_endpoint)
    monkeypatch.setenv("DYNAMODB_PRODUCTS_TABLE", settings.products_table)
    monkeypatch.setenv("DYNAMODB_ORDERS_TABLE", settings.orders_table)
    monkeypatch.setenv("DYNAMODB_CART_TABLE", settings.cart_table)
    monkeypatch.setenv("JWT_SECRET_KEY", settings.jwt_secret_key)
    monkeypatch.setenv("CLOUDSTORE_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)
    assert os.environ["CLOUDSTORE_DATABASE_URL"]
    prompts: list[str] = []

    async def run(*args: str, stdin: str = "", answers: list[str] | None = None):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        monkeypatch.setattr(cli, "_interactive", lambda: answers is not None)
        replies = iter(answers or [])

        def getpass(prompt: str = "") -> str:
            prompts.append(prompt)
            return next(replies)

        monkeypatch.setattr(cli.getpass, "getpass", getpass)
        capsys.readouterr()
        try:
            code = await asyncio.to_thread(main, list(args))
        except SystemExit as stop:
            code = stop.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.prompts = prompts
    return run


async def logs_in(client, email: str, password: str) -> bool:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    return response.status_code == 200


async def test_the_password_is_asked_twice_at_the_terminal(client, cloudstore):
    email = unique_email("admin")
    code, out, _ = await cloudstore(
        "create-admin", "--email", email, answers=["boss-pass-1", "boss-pass-1"]
    )
    assert (code, f"{email} is an admin" in out) == (0, True)
    assert len(cloudstore.prompts) == 2
    assert await logs_in(client, email, "boss-pass-1")


async def test_two_different_answers_change_nothing(client, cloudstore):
    email = unique_email("admin")
    code, _, _ = await cloudstore(
        "create-admin", "--email", email, answers=["boss-pass-1", "boss-pass-2"]
    )
    assert code == "cloudstore create-admin: the two passwords differ; nothing changed"
    assert not await logs_in(client, email, "boss-pass-1")


async def test_password_stdin_reads_the_first_line(client, cloudstore):
    email = unique_email("admin")
    code, _, _ = await cloudstore(
        "create-admin", "--email", email, "--password-stdin", stdin="piped pass 1\nignored\n"
    )
    assert code == 0
    assert await logs_in(client, email, "piped pass 1")


async def test_password_stdin_with_nothing_piped_is_refused(cloudstore):
    code, _, _ = await cloudstore(
        "create-admin", "--email", unique_email("admin"), "--password-stdin", stdin=""
    )
    assert code == "cloudstore create-admin: no password on standard input"


async def test_without_a_terminal_it_asks_for_password_stdin(cloudstore):
    code, _, _ = await cloudstore("create-admin", "--email", unique_email("admin"))
    assert "pipe it with --password-stdin" in code


async def test_a_password_on_the_command_line_is_refused_saying_why(client, cloudstore):
    email = unique_email("admin")
    code, _, _ = await cloudstore("create-admin", "--email", email, "--password", "boss-pass-1")
    assert "--password is no longer accepted" in code and "ps" in code
    assert not await logs_in(client, email, "boss-pass-1")


async def test_a_too_short_password_exits_2_before_anything_changes(client, cloudstore):
    email = unique_email("admin")
    code, _, err = await cloudstore(
        "create-admin", "--email", email, "--password-stdin", stdin="short\n"
    )
    assert (code, err) == (2, "cloudstore create-admin: password must be at least 6 characters\n")


def test_the_readme_shows_create_admin_without_a_password_argument():
    from tests.helpers import ROOT

    readme = (ROOT / "README.md").read_text()
    assert "create-admin --email you@example.com --password-stdin" in readme
    assert "--password '" not in readme and "--password P" not in readme
