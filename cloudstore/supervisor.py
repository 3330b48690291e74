"""`cloudstore serve` keeps its embedded backends alive.

A thread checks the children twice a second. One that died (the local DynamoDB child, the
embedded PostgreSQL's postmaster, the PostgreSQL watchdog) is collected at once (no zombie)
and started again from its durable state (the DynamoDB state file, the PostgreSQL data dir)
on the same address, so the workers' `DYNAMODB_ENDPOINT` and database URL stay valid: their
requests answer 503 meanwhile and recover on their own (the DynamoDB client and the psycopg
pool reconnect). A start that fails is retried with backoff (0.5 s doubling to 10 s). When
it is back, ONE line says what died, when, and for how long it was down.

The postmaster is not our child: pg_ctl detaches it. `serve` is a child subreaper
(`lifeline.become_subreaper`), so the postmaster and, once it died, its helper processes are
re-parented to serve and collected here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from datetime import datetime

from cloudstore.embedded import EmbeddedBackends, PostgresWatchdog, postgres_dir

log = logging.getLogger("cloudstore.supervisor")

CHECK_SECONDS = 0.5
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 10.0


def _exit_status(status: int | None) -> str:
    if status is None:
        return "exit status unknown"
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-status).name}"
        return f"killed by signal {-status}"
    return f"exit code {status}"


class _Child:
    """One supervised backend: how to tell it died, and how to start it again."""

    name = ""

    def __init__(self, children: EmbeddedBackends) -> None:
        self.children = children
        self.down_since: float | None = None
        self.how = ""
        self.retry_at = 0.0
        self.delay = FIRST_RETRY_SECONDS

    def died(self) -> str | None:
        """Why the child is gone (collecting it), or None while it runs."""
        raise NotImplementedError

    def restart(self) -> str:
        """Start it again; returns where it answers."""
        raise NotImplementedError


class _LocalDynamo(_Child):
    name = "local DynamoDB"

    def died(self) -> str | None:
        dynamo = self.children.dynamo
        assert dynamo is not None, "supervised once started"
        if dynamo.is_running():  # polls: a dead child is collected here
            return None
        return f"pid {dynamo.pid}, {_exit_status(dynamo.process.returncode)}"

    def restart(self) -> str:
        from cloudstore.localdynamo import start_local_dynamodb

        old = self.children.dynamo
        assert old is not None, "supervised once started"
        old.stop(timeout=1)  # already dead: closes its pipes and log readers
        port = int(old.endpoint.rsplit(":", 1)[1])
        new = self.children.dynamo = start_local_dynamodb(old.state_path, port=port)
        return new.endpoint


class _Postgres(_Child):
    name = "embedded PostgreSQL"

    def __init__(self, children: EmbeddedBackends) -> None:
        super().__init__(children)
        self.pid: int = children.postgres.get_pid()

    def died(self) -> str | None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # not our child (no subreaper here): ask the system
            import psutil

            try:
                process = psutil.Process(self.pid)
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    return None
            except psutil.NoSuchProcess:
                pass
            return f"postmaster pid {self.pid}"
        if pid == 0:
            return None
        code = os.waitstatus_to_exitcode(status)
        return f"postmaster pid {self.pid}, {_exit_status(code)}"

    def restart(self) -> str:
        server = self.children.postgres
        pgserver_log = logging.getLogger("pgserver")
        level = pgserver_log.level
        pgserver_log.setLevel(logging.CRITICAL)  # a failed try dumps the server log; we retry
        try:
            # As root, pgserver runs PostgreSQL as its own user and opens the way to the data
            # dir for it at start; do that again, something may have closed it meanwhile.
            server.ensure_pgdata_inited()  # initdb is skipped: the data dir exists
            server.ensure_postgres_running()
        finally:
            pgserver_log.setLevel(level)
        self.pid = server.get_pid()
        uri = server.get_uri()
        if uri != self.children.postgres_uri:
            log.error(
                "embedded PostgreSQL came back at %s, not %s", uri, self.children.postgres_uri
            )
        return uri


class _Watchdog(_Child):
    name = "PostgreSQL watchdog"

    def died(self) -> str | None:
        watchdog = self.children.watchdog
        assert watchdog is not None, "supervised once started"
        if watchdog.is_running():
            return None
        return f"pid {watchdog.process.pid}, {_exit_status(watchdog.process.returncode)}"

    def restart(self) -> str:
        self.children.watchdog = PostgresWatchdog(postgres_dir(self.children.data_dir))
        return f"pid {self.children.watchdog.process.pid}"


class Supervisor:
    """Restarts the embedded backends of `children` when they die, from a thread."""

    def __init__(self, children: EmbeddedBackends) -> None:
        self.children = children
        self.watched: list[_Child] = []
        if children.dynamo is not None:
            self.watched.append(_LocalDynamo(children))
        if children.postgres is not None:
            self.watched.append(_Postgres(children))
        if children.watchdog is not None:
            self.watched.append(_Watchdog(children))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cloudstore-supervisor", daemon=True)

    def start(self) -> None:
        if self.watched:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            for child in self.watched:
                try:
                    self.check(child)
                except Exception:  # the supervisor itself must not die
                    log.exception("supervising the %s failed", child.name)
            _collect_orphans(keep={c.pid for c in self.watched if isinstance(c, _Postgres)})

    def check(self, child: _Child) -> None:
        now = time.time()
        if child.down_since is None:
            how = child.died()
            if how is None:
                return
            child.down_since, child.how = now, how
            child.retry_at, child.delay = now, FIRST_RETRY_SECONDS
        if now < child.retry_at or self._stop.is_set():
            return
        try:
            where = child.restart()
        except Exception as error:  # noqa: BLE001 - any failure to start is retried
            log.debug("restarting the %s failed: %s", child.name, error)
            child.retry_at = time.time() + child.delay
            child.delay = min(child.delay * 2, MAX_RETRY_SECONDS)
            return
        died_at = datetime.fromtimestamp(child.down_since).astimezone()
        log.warning(
            "%s died at %s (%s); restarted at %s after %.1f s down",
            child.name,
            died_at.isoformat(timespec="seconds"),
            child.how,
            where,
            time.time() - child.down_since,
        )
        child.down_since = None


def _collect_orphans(keep: set[int]) -> None:
    """Collect exited PostgreSQL processes re-parented to us (a killed postmaster's helpers),
    but not the postmaster (`keep`: its check tells how it ended). Only those: our other
    children are collected by their own Popen/multiprocessing."""
    try:
        import psutil

        children = psutil.Process().children()
    except Exception:  # noqa: BLE001 - no psutil, or /proc unreadable: PID 1 collects them
        return
    for child in children:
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if (
                child.pid not in keep
                and child.status() == psutil.STATUS_ZOMBIE
                and child.name().startswith("postgres")
            ):
                os.waitpid(child.pid, os.WNOHANG)
