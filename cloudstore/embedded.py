"""The zero-config backends: an embedded PostgreSQL (pgserver) and a local DynamoDB endpoint
(moto's server, one process, state saved in the data dir), each used only when the settings
name no real one.

`cloudstore serve` starts them and records where they listen in `<data dir>/runtime.json`, so
`cloudstore seed` and `create-admin` run while the store is up find the same backends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from cloudstore.private_files import (
    private_dir,
    running_as_root,
    tighten_files,
    undo_pgserver_loosening,
    write_private,
)
from cloudstore.settings import Settings

log = logging.getLogger(__name__)

RUNTIME_FILE = "runtime.json"
DYNAMODB_STATE_FILE = "dynamodb.json"
POSTGRES_DIR = "postgres"


@dataclass(frozen=True, slots=True)
class Runtime:
    pid: int
    database_url: str | None
    dynamodb_endpoint: str | None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _endpoint_answers(endpoint: str) -> bool:
    try:
        with urlopen(endpoint, timeout=2):  # noqa: S310 - our own local endpoint
            return True
    except URLError as error:
        return not isinstance(getattr(error, "reason", None), OSError)
    except OSError:
        return False


def read_runtime(data_dir: Path) -> Runtime | None:
    """The backends of a `cloudstore serve` running on this data dir, if there is one."""
    path = data_dir / RUNTIME_FILE
    try:
        raw = json.loads(path.read_text())
        runtime = Runtime(int(raw["pid"]), raw.get("database_url"), raw.get("dynamodb_endpoint"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _pid_alive(runtime.pid):
        return None
    if runtime.dynamodb_endpoint and not _endpoint_answers(runtime.dynamodb_endpoint):
        return None
    return runtime


def write_runtime(data_dir: Path, runtime: Runtime) -> None:
    write_private(data_dir / RUNTIME_FILE, json.dumps(dataclasses.asdict(runtime)))


def remove_runtime(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / RUNTIME_FILE).unlink()


def start_postgres(data_dir: Path) -> tuple[str, object]:
    """Start (or attach to) the embedded PostgreSQL under the data dir; returns its URI."""
    try:
        import pgserver
    except ImportError:
        raise SystemExit(
            "The embedded PostgreSQL needs the 'embedded' extra: pip install -e '.[embedded]' "
            "(or set RDS_HOST to use your own PostgreSQL)"
        ) from None
    path = (data_dir / POSTGRES_DIR).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with undo_pgserver_loosening(path.parent):
        server = pgserver.get_server(path, cleanup_mode="stop")
    return server.get_uri(), server


def start_dynamodb(data_dir: Path):
    try:
        from cloudstore.localdynamo import start_local_dynamodb
    except ImportError:
        raise SystemExit(
            "The local DynamoDB needs the 'embedded' extra: pip install -e '.[embedded]' "
            "(or set DYNAMODB_ENDPOINT / AWS credentials)"
        ) from None
    return start_local_dynamodb((data_dir / DYNAMODB_STATE_FILE).resolve())


@contextlib.contextmanager
def embedded_backends(settings: Settings, *, reuse_running: bool) -> Iterator[Settings]:
    """Settings pointing at working backends: the configured ones, a running `serve`'s (when
    `reuse_running`), or embedded ones started here and stopped (state saved) on exit."""
    root_with_pgserver = running_as_root() and settings.embedded_postgres
    private_dir(settings.data_dir, traversable=root_with_pgserver)
    tighten_files(settings.data_dir, skip=(POSTGRES_DIR,))
    running = read_runtime(settings.data_dir) if reuse_running else None
    changes: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if settings.embedded_postgres:
            if running and running.database_url:
                changes["database_url"] = running.database_url
            else:
                uri, server = start_postgres(settings.data_dir)
                changes["database_url"] = uri
                stack.callback(_stop_postgres, server)
        if settings.embedded_dynamodb:
            if running and running.dynamodb_endpoint:
                changes["dynamodb_endpoint"] = running.dynamodb_endpoint
            else:
                local = start_dynamodb(settings.data_dir)
                changes["dynamodb_endpoint"] = local.endpoint
                stack.callback(local.stop)
        yield settings.with_overrides(**changes)


def _stop_postgres(server) -> None:
    with contextlib.suppress(Exception):
        server.cleanup()
