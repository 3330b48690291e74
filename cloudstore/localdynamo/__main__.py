"""``python -m cloudstore.localdynamo``: the server process.

Prints exactly one line ``READY http://HOST:PORT`` on stdout once it accepts requests;
logs go to stderr as ``LEVEL name: message``. Exit codes: 0 after a clean stop, 1 when a
stop leaves writes unsaved (said on stderr), 2 when it cannot start.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloudstore.localdynamo.flock import flock_within
from cloudstore.localdynamo.process import (
    DEFAULT_COMPACT_BYTES,
    DEFAULT_COMPACT_INTERVAL,
    DEFAULT_HOST,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_REGION,
    READY_PREFIX,
)
from cloudstore.localdynamo.state import StateFileError

log = logging.getLogger("cloudstore.localdynamo")


def lock_state_file(
    state_path: Path, timeout: float, cancelled: Callable[[], bool] = lambda: False
) -> int | None:
    """Hold an exclusive lock on ``<state>.lock`` for the life of the process.

    Two servers on one state would each journal their own writes and lose the other's, and
    a server that restores while its predecessor is still stopping would miss the
    predecessor's last writes. So we wait (up to ``timeout``) for a predecessor to exit and
    refuse to start next to a live one. The kernel drops the lock when the process dies,
    however it dies. Returns the fd (None if ``cancelled()`` while waiting)."""
    lock_path = state_path.with_name(state_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    outcome = flock_within(fd, timeout, cancelled)
    if outcome == "cancelled":
        os.close(fd)
        return None
    if outcome == "timed out":
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise StateFileError(
            f"state file {state_path} is in use by another local DynamoDB "
            f"(pid {holder}); waited {timeout:.0f}s for it to exit"
        )
    try:  # the pid, for the message above; a full disk must not stop the start
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass
    return fd


def check_host(host: str) -> None:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        if not host:
            raise SystemExit("localdynamo: --host must not be empty") from None
        return  # a name such as "localhost"
    if addr.is_unspecified:
        raise SystemExit(
            f"localdynamo: refusing to bind to {host}: moto has no authentication; "
            "bind to a loopback address such as 127.0.0.1"
        )
    if not addr.is_loopback:
        log.warning(
            "binding to non-loopback address %s: anyone who reaches it has full access", host
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cloudstore.localdynamo",
        description="moto DynamoDB server whose confirmed writes are on disk.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--state", type=Path, required=True, help="snapshot file")
    parser.add_argument(
        "--compact-bytes",
        type=int,
        default=DEFAULT_COMPACT_BYTES,
        help="fold the journal into the snapshot once it is this big (default %(default)s)",
    )
    parser.add_argument(
        "--compact-interval",
        type=float,
        default=DEFAULT_COMPACT_INTERVAL,
        help="seconds between checks of the journal size (default %(default)s)",
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help="region to warm up")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when it is gone")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        help="seconds to wait for another server on the same state to exit",
    )
    for name in ("scan", "query", "transactions"):
        parser.add_argument(
            f"--original-{name}", action="store_true", help=f"moto's own {name}; for comparisons"
        )
    parser.add_argument("-v", "--verbose", action="store_true", help="log compactions")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    check_host(args.host)

    stop = threading.Event()
    signalled = False

    def on_signal(_signum: int, _frame: Any) -> None:
        # Only a flag: a handler runs between bytecodes, possibly inside `stop.wait()` with
        # the Event's (non-reentrant) lock held; `stop.set()` here could deadlock.
        nonlocal signalled
        signalled = True

    def stopping() -> bool:
        return signalled or stop.is_set()

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), on_signal)

    state_path: Path = args.state.expanduser().resolve()
    try:
        lock_state_file(state_path, args.lock_timeout, cancelled=stopping)
        if stopping():
            return 0
        from cloudstore.localdynamo import moto_internals as mi

        mi.check()
        mi.stop_tracking_instances()
        os.environ.pop("MOTO_ACCOUNT_ID", None)  # one account: moto's default
        from cloudstore.localdynamo.server import LocalServer, run_server

        server = LocalServer(
            state_path,
            args.compact_bytes,
            {
                "scan": not args.original_scan,
                "query": not args.original_query,
                "transactions": not args.original_transactions,
            },
        )
        started = time.perf_counter()
        rebuilt = server.load()
    except (StateFileError, OSError, RuntimeError) as exc:
        log.error("%s", exc)
        return 2
    log.info(
        "restored %d tables, %d items and %d journal records from %s in %.3fs",
        rebuilt.tables,
        rebuilt.items,
        rebuilt.records,
        state_path,
        time.perf_counter() - started,
    )
    try:
        mi.backend(args.region)  # instantiate the backend (imports, region data) before READY
    except KeyError:
        log.warning("region %r is unknown to moto", args.region)
    if args.parent_pid is not None:

        def watch_parent() -> None:
            while not stop.wait(1.0):
                if os.getppid() != args.parent_pid:
                    log.warning("parent process %d is gone; shutting down", args.parent_pid)
                    stop.set()

        threading.Thread(target=watch_parent, name="localdynamo-parent", daemon=True).start()

    def ready(port: int) -> None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        sys.stdout.write(f"{READY_PREFIX}http://{host}:{port}\n")
        sys.stdout.flush()
        # Nothing else may go to stdout (a parent may stop reading it); moto occasionally
        # print()s diagnostics: send those to stderr.
        sys.stdout = sys.stderr

    return run_server(
        server,
        args.host,
        args.port,
        args.region,
        ready,
        stopping,
        lambda seconds: stop.wait(seconds),
        args.compact_interval,
    )


if __name__ == "__main__":
    sys.exit(main())
