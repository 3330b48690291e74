"""The zero-config backends: an embedded PostgreSQL (pgserver) and a local DynamoDB endpoint
(moto's server, one process, state saved in the data dir), each used only when the settings
name no real one.

`cloudstore serve` takes the data dir first (`serve.lock`: a second serve is refused at once),
starts them, records where they listen in `<data dir>/runtime.json`, so `cloudstore seed` and
`create-admin` run while the store is up find the same backends, and has them supervised
(`cloudstore/supervisor.py`): one that dies is restarted on the same address. None outlives
serve: the local DynamoDB watches its parent, a `pgwatchdog.py` process stops PostgreSQL.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.error import URLError
from urllib.request import urlopen

from cloudstore.pgwatchdog import pid_exists
from cloudstore.private_files import (
    private_dir,
    running_as_root,
    tighten_files,
    undo_pgserver_loosening,
    write_private,
)
from cloudstore.settings import Settings

if TYPE_CHECKING:
    from cloudstore.localdynamo import LocalDynamo

if sys.platform == "win32":  # pragma: no cover - no flock there
    fcntl = None
else:
    import fcntl

log = logging.getLogger(__name__)

RUNTIME_FILE = "runtime.json"
DYNAMODB_STATE_FILE = "dynamodb.json"
POSTGRES_DIR = "postgres"
SERVE_LOCK_FILE = "serve.lock"


@dataclass(frozen=True, slots=True)
class Runtime:
    pid: int
    database_url: str | None
    dynamodb_endpoint: str | None


def _endpoint_answers(endpoint: str) -> bool:
    try:
        with urlopen(endpoint, timeout=2):  # noqa: S310 - our own local endpoint
            return True
    except URLError as error:
        return not isinstance(getattr(error, "reason", None), OSError)
    except OSError:
        return False


def read_runtime(data_dir: Path, restart_wait: float = 30.0) -> Runtime | None:
    """The backends of a `cloudstore serve` running on this data dir, if there is one.

    A serve whose local DynamoDB is being restarted by its supervisor is waited for (up to
    `restart_wait` seconds), not mistaken for a dead one."""
    path = data_dir / RUNTIME_FILE
    try:
        raw = json.loads(path.read_text())
        runtime = Runtime(int(raw["pid"]), raw.get("database_url"), raw.get("dynamodb_endpoint"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_exists(runtime.pid):
        return None
    if runtime.dynamodb_endpoint:
        deadline = time.monotonic() + (restart_wait if serve_holds(data_dir) else 0)
        while not _endpoint_answers(runtime.dynamodb_endpoint):
            if time.monotonic() >= deadline or not pid_exists(runtime.pid):
                return None
            time.sleep(0.5)
    return runtime


def write_runtime(data_dir: Path, runtime: Runtime) -> None:
    write_private(data_dir / RUNTIME_FILE, json.dumps(dataclasses.asdict(runtime)))


def remove_runtime(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / RUNTIME_FILE).unlink()


# ---- one serve per data dir ---------------------------------------------------------------


def lock_data_dir(data_dir: Path, url: str) -> int | None:
    """Take the data dir for this `serve` (an exclusive `flock` on `serve.lock`, held until
    the process ends, however it ends) or exit at once naming the serve that has it.
    Returns the lock's fd (None where `flock` does not exist)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / SERVE_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 500).decode(errors="replace").strip() or "pid unknown"
        os.close(fd)
        raise SystemExit(
            f"cloudstore serve: {data_dir} is in use by another cloudstore serve ({holder}); "
            "stop it first, or set CLOUDSTORE_DATA_DIR to another directory"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}, {url}".encode())
    return fd


def serve_holds(data_dir: Path) -> bool:
    """Whether a `cloudstore serve` holds this data dir now."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(data_dir / SERVE_LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# ---- the children --------------------------------------------------------------------------


def start_postgres(data_dir: Path) -> tuple[str, Any]:
    """Start (or attach to) the embedded PostgreSQL under the data dir; returns its URI."""
    try:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR
            # (systemd services, containers, sudo) platformdirs warns and falls back to
            # /tmp/runtime-<uid>, which is fine for pgserver's lock file: say nothing.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver
    except ImportError:
        raise SystemExit(
            "The embedded PostgreSQL needs the 'embedded' extra: pip install -e '.[embedded]' "
            "(or set RDS_HOST to use your own PostgreSQL)"
        ) from None
    path = postgres_dir(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with undo_pgserver_loosening(path.parent):
        server = pgserver.get_server(path, cleanup_mode="stop")
    return server.get_uri(), server


def postgres_dir(data_dir: Path) -> Path:
    return (data_dir / POSTGRES_DIR).resolve()


def start_dynamodb(data_dir: Path, port: int = 0) -> LocalDynamo:
    try:
        from cloudstore.localdynamo import start_local_dynamodb
    except ImportError:
        raise SystemExit(
            "The local DynamoDB needs the 'embedded' extra: pip install -e '.[embedded]' "
            "(or set DYNAMODB_ENDPOINT / AWS credentials)"
        ) from None
    return start_local_dynamodb((data_dir / DYNAMODB_STATE_FILE).resolve(), port=port)


class PostgresWatchdog:
    """The `pgwatchdog.py` process that stops the embedded PostgreSQL if we die first."""

    def __init__(self, pgdata: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-I", str(Path(__file__).with_name("pgwatchdog.py")), str(pgdata)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # a signal to serve's process group leaves it be
        )

    def is_running(self) -> bool:
        return self.process.poll() is None

    def finish(self, *, stop_postgres: bool, timeout: float = 40.0) -> None:
        """Stop PostgreSQL through the watchdog (`stop_postgres`), or let it go; then wait."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            if not stop_postgres:
                self.process.stdin.write(b"detach")
            self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class EmbeddedBackends:
    """The embedded PostgreSQL and local DynamoDB this process started, as they are now (the
    supervisor replaces a restarted one here), and how to stop them."""

    def __init__(self, data_dir: Path, *, owner: bool) -> None:
        self.data_dir = data_dir
        self.owner = owner  # `serve`: it holds the data dir, PostgreSQL stops with it
        self.postgres: Any = None  # pgserver's PostgresServer (pgserver is untyped)
        self.postgres_uri: str | None = None
        self.watchdog: PostgresWatchdog | None = None
        self.dynamo: LocalDynamo | None = None

    def start_postgres(self) -> str:
        self.postgres_uri, self.postgres = start_postgres(self.data_dir)
        self.watchdog = PostgresWatchdog(postgres_dir(self.data_dir))
        return self.postgres_uri

    def start_dynamodb(self) -> str:
        self.dynamo = start_dynamodb(self.data_dir)
        return self.dynamo.endpoint

    def stop(self) -> None:
        if self.dynamo is not None:
            self.dynamo.stop()
        if self.postgres is not None:
            _stop_postgres(self.postgres)
        if self.watchdog is not None:
            # pgserver leaves PostgreSQL running while its handle list names another live
            # (or killed) process; serve owns the data dir, so the watchdog stops it then.
            self.watchdog.finish(stop_postgres=self.owner)


@contextlib.contextmanager
def embedded_backends(
    settings: Settings, *, reuse_running: bool, supervise: bool = False
) -> Iterator[Settings]:
    """Settings pointing at working backends: the configured ones, a running `serve`'s (when
    `reuse_running`), or embedded ones started here and stopped (state saved) on exit, and
    restarted if they die meanwhile when `supervise` (that is `serve`, which holds the data
    dir: see `lock_data_dir`)."""
    root_with_pgserver = running_as_root() and settings.embedded_postgres
    private_dir(settings.data_dir, traversable=root_with_pgserver)
    tighten_files(settings.data_dir, skip=(POSTGRES_DIR,))
    running = read_runtime(settings.data_dir) if reuse_running else None
    changes: dict[str, str] = {}
    children = EmbeddedBackends(settings.data_dir, owner=supervise)
    with contextlib.ExitStack() as stack:
        stack.callback(children.stop)
        if settings.embedded_postgres:
            if running and running.database_url:
                changes["database_url"] = running.database_url
            else:
                changes["database_url"] = children.start_postgres()
        if settings.embedded_dynamodb:
            if running and running.dynamodb_endpoint:
                changes["dynamodb_endpoint"] = running.dynamodb_endpoint
            else:
                changes["dynamodb_endpoint"] = children.start_dynamodb()
        if supervise:
            from cloudstore.supervisor import Supervisor

            supervisor = Supervisor(children)
            supervisor.start()
            stack.callback(supervisor.stop)  # before the children stop
        yield settings.with_overrides(**changes)


def _stop_postgres(server: Any) -> None:
    with contextlib.suppress(Exception):
        server.cleanup()
