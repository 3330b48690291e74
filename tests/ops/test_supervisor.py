"""`cloudstore serve` supervises its embedded backends: a killed local DynamoDB or PostgreSQL
postmaster is restarted on the same address (503s meanwhile, then the app recovers by
itself, one log line for the gap, no zombie left); nothing it started outlives a SIGKILLed
serve; a second serve on the same data dir is refused at once with one line."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import unique_email
from tests.helpers.serve import ServeProcess, call, serve_command, zero_config_env

RECOVERY_SECONDS = 60


def wait_for(check, within: float = RECOVERY_SECONDS, every: float = 0.2):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("did not happen in time")


def local_dynamo_pid(serve: ServeProcess) -> int:
    return next(
        child.pid
        for child in psutil.Process(serve.pid).children()
        if "cloudstore.localdynamo" in " ".join(child.cmdline())
    )


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])


def supervisor_lines(serve: ServeProcess, what: str) -> list[str]:
    return [line for line in serve.output().splitlines() if f"{what} died at" in line]


def gone(pid: int) -> bool:
    """Exited and collected: a zombie still holds its pid."""
    return not psutil.pid_exists(pid)


class Outage:
    """What a test saw around killing one backend of a running serve. `unstartable` (a
    context manager) keeps the backend from starting again until a request has seen the
    outage: otherwise a restart may be quicker than the app's wait for a connection."""

    def __init__(self, serve, what: str, pid: int, probe, unstartable=None) -> None:
        self.what, self.pid = what, pid
        with unstartable or contextlib.nullcontext():
            os.kill(pid, signal.SIGKILL)
            self.statuses = [probe()]
        while self.statuses[-1] != 200:
            if len(self.statuses) > RECOVERY_SECONDS * 5:
                break
            time.sleep(0.2)
            self.statuses.append(probe())
        self.lines = wait_for(lambda: supervisor_lines(serve, what), within=10)


@contextlib.contextmanager
def data_root():
    """A directory of our own: as root, PostgreSQL runs as another user that must reach its
    data dir, and other pytest runs on the machine reset /tmp/pytest-of-root to 0700."""
    root = Path(tempfile.mkdtemp(prefix="cloudstore-supervisor-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def serve():
    with data_root() as root:
        server = ServeProcess(root / "data", root / "serve.log")
        yield server
        server.stop()


@pytest.fixture(scope="module")
def account(serve) -> dict:
    credentials = {"email": unique_email(), "password": "rahasia1"}
    status, body = call(serve.base, "POST", "/api/auth/register", {"name": "Sari", **credentials})
    assert status == 201, body
    return {**credentials, "token": body["token"]}


@pytest.fixture(scope="module")
def token(account) -> str:
    return account["token"]


@pytest.fixture(scope="module")
def dynamo_outage(serve, token) -> Outage:
    endpoint_before = (serve.data_dir / "runtime.json").read_text()
    outage = Outage(
        serve,
        "local DynamoDB",
        local_dynamo_pid(serve),
        lambda: call(serve.base, "GET", "/api/cart", token=token)[0],
    )
    outage.runtime_unchanged = (serve.data_dir / "runtime.json").read_text() == endpoint_before
    return outage


@contextlib.contextmanager
def without_config(pgdata: Path):
    """PostgreSQL refuses to start without its postgresql.conf: the supervisor retries."""
    config = pgdata / "postgresql.conf"
    aside = config.with_name("postgresql.conf.aside")
    config.rename(aside)
    try:
        yield
    finally:
        aside.rename(config)


@pytest.fixture(scope="module")
def postgres_outage(serve, account) -> Outage:
    # A login always reads PostgreSQL (a profile may come from the few-second user cache).
    credentials = {"email": account["email"], "password": account["password"]}
    return Outage(
        serve,
        "embedded PostgreSQL",
        postmaster_pid(serve.data_dir),
        lambda: call(serve.base, "POST", "/api/auth/login", credentials)[0],
        unstartable=without_config(serve.data_dir / "postgres"),
    )


def test_requests_answer_503_while_the_local_dynamodb_is_down(dynamo_outage):
    assert 503 in dynamo_outage.statuses


def test_requests_recover_after_the_local_dynamodb_is_restarted(dynamo_outage):
    assert dynamo_outage.statuses[-1] == 200


def test_local_dynamodb_restart_is_logged_as_one_line(dynamo_outage):
    assert len(dynamo_outage.lines) == 1


def test_local_dynamodb_log_line_says_how_it_died_and_how_long_it_was_down(dynamo_outage):
    line = dynamo_outage.lines[0]
    assert "killed by SIGKILL" in line and " s down" in line


def test_killed_local_dynamodb_is_not_left_a_zombie(dynamo_outage):
    assert gone(dynamo_outage.pid)


def test_local_dynamodb_comes_back_on_the_same_endpoint(dynamo_outage):
    assert dynamo_outage.runtime_unchanged


def test_requests_answer_503_while_postgres_is_down(postgres_outage):
    assert 503 in postgres_outage.statuses


def test_requests_recover_after_postgres_is_restarted(postgres_outage):
    assert postgres_outage.statuses[-1] == 200


def test_postgres_restart_is_logged_as_one_line(postgres_outage):
    assert len(postgres_outage.lines) == 1


def test_killed_postmaster_is_not_left_a_zombie(postgres_outage):
    assert wait_for(lambda: gone(postgres_outage.pid), within=10)


def test_orders_survive_both_restarts(serve, token, dynamo_outage, postgres_outage):
    status, body = call(serve.base, "GET", "/api/orders", token=token)
    assert status == 200


def test_second_serve_on_the_same_data_dir_is_refused_with_one_line(serve):
    second = subprocess.run(
        serve_command(0),
        env=zero_config_env(serve.data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (second.returncode, (second.stdout + second.stderr).strip().splitlines()) == (
        1,
        [
            f"cloudstore serve: {serve.data_dir} is in use by another cloudstore serve "
            f"(pid {serve.pid}, http://127.0.0.1:{serve.port}); stop it first, or set "
            "CLOUDSTORE_DATA_DIR to another directory"
        ],
    )


def test_nothing_serve_started_outlives_a_sigkilled_serve():
    with data_root() as root:
        killed_serve_leaves_no_process(ServeProcess(root / "data", root / "serve.log"))


def killed_serve_leaves_no_process(server: ServeProcess) -> None:
    started: list[psutil.Process] = []
    try:
        started = psutil.Process(server.pid).children(recursive=True)
        started_pids = {p.pid for p in started}
        assert postmaster_pid(server.data_dir) in started_pids  # adopted: see lifeline.py
        server.process.kill()
        server.process.wait()

        def survivors() -> list[psutil.Process]:
            alive = []
            for process in started:
                try:
                    if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                        alive.append(process)
                except psutil.NoSuchProcess:
                    pass
            return alive

        deadline = time.monotonic() + 45
        while survivors() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [p.pid for p in survivors()] == []
    finally:
        server.stop()
        for process in started:  # leave nothing behind even when the test fails
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
