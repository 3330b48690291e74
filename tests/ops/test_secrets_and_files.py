"""Secrets and files (issue 11, item 10): the JWT secret is required whenever a backend is
external, the data dir and every file of ours in it are private, and only files a browser
needs are served under /static/."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cloudstore import create_app
from cloudstore.embedded import Runtime, embedded_backends, start_postgres, write_runtime
from cloudstore.private_files import DataDirError, private_dir
from cloudstore.secrets_store import SECRET_FILE, local_jwt_secret
from cloudstore.settings import Settings, SettingsError
from cloudstore.web.static_files import is_served
from tests.helpers import BACKEND_VARIABLES, ROOT

REMOTE_DATABASE = "postgresql://shop@db.example.internal:5432/shop"
REMOTE_DYNAMODB = "http://dynamodb.example.internal:8000"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- the JWT secret ---------------------------------------------------------------------------


def test_a_remote_database_url_without_jwt_secret_refuses_to_start_with_one_line(tmp_path):
    settings = Settings(database_url=REMOTE_DATABASE, data_dir=tmp_path)
    with pytest.raises(SettingsError) as caught:
        settings.validate()
    message = str(caught.value)
    assert "JWT_SECRET_KEY" in message and "PostgreSQL" in message and "\n" not in message


def test_a_dynamodb_endpoint_we_did_not_start_needs_the_jwt_secret(tmp_path):
    settings = Settings(dynamodb_endpoint=REMOTE_DYNAMODB, data_dir=tmp_path)
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY is required when DynamoDB"):
        settings.validate()


def test_backends_this_data_dirs_serve_started_need_no_jwt_secret(tmp_path):
    write_runtime(tmp_path, Runtime(os.getpid(), REMOTE_DATABASE, REMOTE_DYNAMODB))
    settings = Settings(
        database_url=REMOTE_DATABASE, dynamodb_endpoint=REMOTE_DYNAMODB, data_dir=tmp_path
    )
    assert settings.external_backends() == ()
    assert settings.validate() is settings


def test_another_data_dirs_serve_does_not_count(tmp_path):
    (tmp_path / "other").mkdir()
    write_runtime(tmp_path / "other", Runtime(os.getpid(), REMOTE_DATABASE, None))
    settings = Settings(database_url=REMOTE_DATABASE, data_dir=tmp_path / "mine")
    assert settings.external_backends() == ("PostgreSQL",)


def test_create_app_refuses_a_remote_database_url_without_jwt_secret(tmp_path):
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY"):
        create_app(Settings(database_url=REMOTE_DATABASE, data_dir=tmp_path))
    assert not (tmp_path / SECRET_FILE).exists()


def test_serve_with_a_remote_database_and_no_jwt_secret_exits_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES}
    env.update(CLOUDSTORE_DATA_DIR=str(tmp_path / "data"), CLOUDSTORE_DATABASE_URL=REMOTE_DATABASE)
    result = subprocess.run(
        [sys.executable, "-m", "cloudstore", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cloudstore: JWT_SECRET_KEY is required")


# ---- the data dir and its files ---------------------------------------------------------------


def test_the_runtime_file_is_private(tmp_path):
    write_runtime(tmp_path, Runtime(os.getpid(), None, None))
    assert mode(tmp_path / "runtime.json") == 0o600


def test_the_generated_jwt_secret_and_its_dir_are_private(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    local_jwt_secret(data_dir)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / SECRET_FILE) == 0o600


def test_an_old_world_readable_secret_is_made_private(tmp_path):
    (tmp_path / SECRET_FILE).write_text("a" * 64)
    (tmp_path / SECRET_FILE).chmod(0o644)
    assert local_jwt_secret(tmp_path) == "a" * 64
    assert mode(tmp_path / SECRET_FILE) == 0o600


def test_starting_makes_every_file_of_ours_in_the_data_dir_private(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    for name in ("runtime.json", "dynamodb.json", SECRET_FILE):
        (data_dir / name).write_text("{}")
        (data_dir / name).chmod(0o644)
    external = Settings(
        database_url=REMOTE_DATABASE, dynamodb_endpoint=REMOTE_DYNAMODB, data_dir=data_dir
    )
    with embedded_backends(external, reuse_running=False):
        pass
    assert mode(data_dir) == 0o700
    assert {
        name: mode(data_dir / name) for name in ("runtime.json", "dynamodb.json", SECRET_FILE)
    } == {
        "runtime.json": 0o600,
        "dynamodb.json": 0o600,
        SECRET_FILE: 0o600,
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the dir to another user")
def test_a_data_dir_owned_by_another_user_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.chown(data_dir, 65534, 65534)
    with pytest.raises(DataDirError, match="belongs to uid 65534"):
        private_dir(data_dir)


@pytest.mark.skipif(os.geteuid() != 0, reason="pgserver loosens permissions only as root")
def test_the_embedded_postgres_leaves_the_data_dir_and_its_parents_as_tight_as_it_can(tmp_path):
    """pgserver adds g+rx,o+rx to every parent of its folder; afterwards the data dir is 0711
    (its `pgserver` user only traverses it) and each parent keeps its mode plus o+x."""
    parent = tmp_path / "private-parent"
    parent.mkdir()
    parent.chmod(0o700)
    data_dir = private_dir(parent / "data", traversable=True)
    uri, server = start_postgres(data_dir)
    try:
        assert uri
        assert mode(data_dir) == 0o711
        assert mode(parent) == 0o701
        assert (data_dir / "postgres").stat().st_uid != 0  # pgserver's own user
    finally:
        server.cleanup()


# ---- what /static/ serves ---------------------------------------------------------------------


def test_every_file_under_static_is_one_a_browser_loads_or_a_licence():
    static = ROOT / "static"
    others = [
        str(p.relative_to(static))
        for p in static.rglob("*")
        if p.is_file() and not is_served(p.name) and not p.name.startswith("LICENSE")
    ]
    assert others == []
    assert not (static / "vendor" / "axe-core").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/axe-core/axe.min.js",
        "/static/vendor/lucide/build_sprite.py",
        "/static/vendor/VERSIONS.md",
        "/static/vendor/htmx/LICENSE",
        "/static/vendor/axe-core/LICENSE-3RD-PARTY.txt",
    ],
)
async def test_test_and_build_files_are_not_served(client, path):
    assert (await client.get(path)).status_code == 404


async def test_browser_files_are_still_served(client):
    for path in ("/static/vendor/htmx/htmx.min.js", "/static/vendor/lucide/sprite.svg"):
        assert (await client.get(path)).status_code == 200, path
