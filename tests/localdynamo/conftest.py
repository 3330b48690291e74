"""Fixtures of the local DynamoDB tests: fake AWS credentials and servers stopped at teardown."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudstore.localdynamo import LocalDynamo, start_local_dynamodb
from tests.helpers.localdynamo import REGION


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, inherited by the child processes too."""
    for name in (
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "MOTO_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def start() -> Iterator[Callable[..., LocalDynamo]]:
    """Start servers; whatever is still running at teardown is stopped."""
    started: list[LocalDynamo] = []

    def _start(state: Path, **kwargs: Any) -> LocalDynamo:
        server = start_local_dynamodb(state, **kwargs)
        started.append(server)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.endpoint), server.endpoint
        return server

    yield _start
    for server in started:
        server.stop(timeout=20)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs (we run as root in CI), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
