"""The server process: moto's DynamoDB behind a WSGI front that journals every write.

Every request runs alone (moto's handlers are not thread-safe: two concurrent conditional
updates of one item could both pass). A write request is handled, its record (what it
changed) goes to the journal, and only once that record is fsynced does the client get
its answer (group commit: one fsync serves every write that arrived meanwhile). When the
journal cannot be written (a full disk), those writes are answered 503
``ServiceUnavailable``, moto's tables are rebuilt from disk (so nothing unconfirmed stays
visible), and writes and DescribeTable (the app's readiness probe) are answered 503 until
a new journal can be started, checked every second.

Compaction (``compact.py``, another process) folds closed journals into the snapshot when
the journal grows past ``--compact-bytes``, and once more at a clean stop.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cloudstore.localdynamo import changes
from cloudstore.localdynamo import moto_internals as mi
from cloudstore.localdynamo.compact import compact, compaction_lock
from cloudstore.localdynamo.journal import JournalFailed, JournalWriter, list_journals
from cloudstore.localdynamo.patches import responses
from cloudstore.localdynamo.patches.query import FastQuery
from cloudstore.localdynamo.patches.scan import FastScan
from cloudstore.localdynamo.patches.transactions import FastTransactions
from cloudstore.localdynamo.state import StateFileError

log = logging.getLogger("cloudstore.localdynamo")

TARGET_PREFIX = "DynamoDB_20120810."
MIN_FREE_BYTES = 8 << 20  # a journal is only reopened with this much room on its disk
SHUTDOWN_DRAIN_SECONDS = 5.0
STOP_COMPACT_BYTES = 8 << 20  # snapshots smaller than this are compacted at every stop


class _Reply:
    """A WSGI answer held back until its write is durable."""

    def __init__(self) -> None:
        self.status = "500 Internal Server Error"
        self.headers: list[tuple[str, str]] = []

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None):
        self.status, self.headers = status, headers
        return lambda _data: None

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])


def error_reply(
    start_response: Callable[..., Any], status: str, code: str, message: str
) -> Iterable[bytes]:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    data = body.encode()
    start_response(
        status,
        [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(data)))],
    )
    return [data]


class LocalServer:
    """The WSGI app (``__call__``) plus the journal, its failure handling and compaction."""

    def __init__(self, state_path: Path, compact_bytes: int, fast: dict[str, bool]) -> None:
        self.state_path = state_path
        self.compact_bytes = compact_bytes
        self.app = mi.make_server_app()
        self.serial = threading.Lock()
        self._cond = threading.Condition()
        self._inflight = 0
        self._stopping = False
        self._request: tuple[str, str] | None = None  # (account, region) of the running request
        self.journal: JournalWriter | None = None
        self.next_generation = 0
        self.unwritable_since: float | None = None
        self.unwritable_reason = ""
        self.refused_writes = 0
        self.compactor: subprocess.Popen[bytes] | None = None
        self.observers: list[Any] = []
        self._patches = [mi.on_each_request(self._seen), *responses.install()]
        if fast.get("scan", True):
            self.observers.append(FastScan().install())
        if fast.get("query", True):
            self.observers.append(FastQuery().install())
        if fast.get("transactions", True):
            FastTransactions().install()

    def _seen(self, account: str, region: str) -> None:
        self._request = (account, region)

    # ---- start-up

    def load(self) -> changes.Rebuilt:
        """Rebuild moto's tables from the snapshot and journals; report damage; open a new
        journal (or start refusing writes if the data dir cannot take one)."""
        with compaction_lock(self.state_path):
            rebuilt = changes.rebuild(self.state_path)
            for read in rebuilt.damaged:
                log.error("%s", read.describe_damage())
                self._set_aside(read.path, read.good_bytes)
            with contextlib.suppress(OSError):
                changes.remove_stale_journals(self.state_path, rebuilt.generation)
        self.next_generation = max(rebuilt.generation, rebuilt.last_journal + 1)
        tables = [t for _, backend in mi.regions_with_tables() for t in mi.tables(backend).values()]
        for observer in self.observers:
            if hasattr(observer, "prepare"):
                observer.prepare(tables)
        self._open_journal()
        return rebuilt

    @staticmethod
    def _set_aside(path: Path, good_bytes: int) -> None:
        """Keep a damaged journal's bytes in ``<journal>.damaged`` and cut the journal back to
        its good records, so the damage is reported once, not at every start."""
        try:
            shutil.copyfile(path, path.with_name(path.name + ".damaged"))
            with open(path, "r+b") as fh:
                fh.truncate(good_bytes)
                os.fsync(fh.fileno())
        except OSError as exc:
            log.error("cannot set aside the damaged journal %s: %s", path, exc)

    def _open_journal(self) -> bool:
        try:
            free = shutil.disk_usage(self.state_path.parent).free
            if free < MIN_FREE_BYTES:
                raise OSError(28, f"only {free} bytes free")
            self.journal = JournalWriter(self.state_path, self.next_generation, self._failed)
        except OSError as exc:
            self._mark_unwritable(f"cannot start journal {self.next_generation}: {exc}")
            return False
        self.next_generation += 1
        if self.unwritable_since is not None:
            log.warning(
                "the data dir is writable again after %.0fs (%d writes refused meanwhile); "
                "taking writes",
                time.monotonic() - self.unwritable_since,
                self.refused_writes,
            )
        self.unwritable_since = None
        return True

    def _mark_unwritable(self, reason: str) -> None:
        if self.unwritable_since is None:
            self.unwritable_since = time.monotonic()
            log.error(
                "%s: refusing writes (503) until the data dir %s can be written",
                reason,
                self.state_path.parent,
            )
        self.unwritable_reason = reason
        self.journal = None

    # ---- journal failure and recovery

    def _failed(self, writer: JournalWriter, exc: OSError) -> None:
        """The flusher could not write: runs on its thread, hands over to another."""
        threading.Thread(target=self._roll_back, args=(writer, exc), daemon=True).start()

    def _roll_back(self, writer: JournalWriter, exc: OSError) -> None:
        with self.serial:
            if self.journal is not writer:
                return
            self._mark_unwritable(f"journal {writer.path.name}: {exc}")
            # Unconfirmed writes are applied in memory: rebuild what is on disk.
            with compaction_lock(self.state_path):
                changes.clear_all()
                self._reset_observers()
                changes.rebuild(self.state_path, {writer.generation: writer.durable_offset})
            with contextlib.suppress(OSError):
                writer.close()

    def retry_journal(self) -> None:
        if self.journal is None and not self._stopping:
            with self.serial:
                if self.journal is None:
                    self._open_journal()

    def _reset_observers(self) -> None:
        for observer in self.observers:
            observer.reset()

    # ---- compaction

    def maybe_compact(self) -> None:
        if self.compactor is not None:
            code = self.compactor.poll()
            if code is None:
                return
            if code:
                log.error("compaction exited with %d; the journals are kept", code)
            self.compactor = None
        journal = self.journal
        if journal is None or journal.size < self.compact_bytes:
            return
        with self.serial:
            if self.journal is not journal:
                return
            closed = journal.generation
            if not journal.close():
                return  # the failure handler takes over
            self.journal = None
            self._open_journal()
        self.compactor = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "cloudstore.localdynamo.compact"]
            + ["--state", str(self.state_path), "--upto", str(closed)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )

    # ---- requests

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._cond:
            if self._stopping:
                return error_reply(
                    start_response, "503 Service Unavailable", "ServiceUnavailable", "stopping"
                )
            self._inflight += 1
        try:
            return self._handle(environ, start_response)
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()

    def _handle(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        operation = target.rpartition(".")[2]
        if not target:
            if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and not environ.get(
                "PATH_INFO", ""
            ).startswith("/moto-api"):
                with self.serial:
                    return list(self.app(environ, start_response))
            return error_reply(start_response, "400 Bad Request", "UnknownOperationException", "")
        account = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        refused = None
        if not target.startswith(TARGET_PREFIX):
            refused = f"the local DynamoDB serves only DynamoDB, not {target}"
        elif account and account != mi.DEFAULT_ACCOUNT_ID:
            refused = f"the local DynamoDB serves only account {mi.DEFAULT_ACCOUNT_ID}"
        body: dict[str, Any] = {}
        if refused is None:
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(raw)
            try:
                body = json.loads(raw or b"{}") if not environ.get("HTTP_CONTENT_ENCODING") else {}
            except ValueError:
                body = {}
            refused = changes.refusal(operation, body if isinstance(body, dict) else {})
        if refused:
            return error_reply(start_response, "400 Bad Request", "ValidationException", refused)
        is_write = operation in changes.WRITE_OPERATIONS
        if is_write and environ.get("HTTP_CONTENT_ENCODING"):
            return error_reply(
                start_response, "400 Bad Request", "ValidationException", "compressed write"
            )
        if (is_write or operation == "DescribeTable") and self.journal is None:
            return self._unavailable(start_response, is_write)
        reply = _Reply()
        seq = 0
        journal = None
        with self.serial:
            if is_write and self.journal is None:
                return self._unavailable(start_response, True)
            self._request = None
            chunks = self.app(environ, reply.start_response)
            try:
                data = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            if is_write and self._request is not None:
                journal = self.journal
                seq = self._after_write(operation, body, reply.code, journal)
        if seq < 0:
            return self._unavailable(start_response, True, undone=True)
        if seq:
            try:
                journal.wait(seq)  # type: ignore[union-attr]
            except JournalFailed:
                return self._unavailable(start_response, True, undone=True)
        start_response(reply.status, reply.headers)
        return [data]

    def _after_write(
        self, operation: str, body: dict[str, Any], code: int, journal: JournalWriter | None
    ) -> int:
        """Update the fast paths' caches and journal the write; its sequence number.

        A failed write is journalled too (what its slots hold afterwards): moto applies
        some writes partly before it fails them (a BatchWriteItem, an UpdateItem that
        creates the item and then rejects its expression), and the disk must hold what
        the memory holds."""
        _account, region = self._request  # type: ignore[misc]
        backend = mi.backend(region)
        slots = changes.slots_of(operation, body, backend)
        if operation in changes.TABLE_WRITES:
            self._reset_observers()
        else:
            by_table: dict[int, list[changes.Slot]] = {}
            for slot in slots:
                by_table.setdefault(id(slot.table), []).append(slot)
            for table_slots in by_table.values():
                for observer in self.observers:
                    observer.written(table_slots[0].table, table_slots)
        if journal is None or (operation == "TransactWriteItems" and not 200 <= code < 300):
            return 0  # a cancelled transaction put back every item it touched
        record = changes.record_for(operation, region, body, backend, slots)
        if record is None:
            return 0
        try:
            return journal.append(record)
        except JournalFailed:
            return -1  # wait() on it raises; the failure handler rebuilds from disk

    def _unavailable(
        self, start_response: Callable[..., Any], is_write: bool, undone: bool = False
    ) -> Iterable[bytes]:
        if is_write:
            self.refused_writes += 1
        message = f"the local DynamoDB cannot write its data dir ({self.unwritable_reason})"
        if undone:
            message += "; this write was not saved and is undone"
        return error_reply(start_response, "503 Service Unavailable", "ServiceUnavailable", message)

    # ---- stopping

    def begin_shutdown(self, drain_seconds: float) -> bool:
        """Reject new requests, wait for running ones; True if all finished."""
        with self._cond:
            self._stopping = True
            return self._cond.wait_for(lambda: self._inflight == 0, timeout=drain_seconds)

    def finish(self) -> int:
        """After the last request: flush, compact, say what was not saved; the exit code."""
        code = 0
        with self.serial:
            journal, self.journal = self.journal, None
            if journal is not None and not journal.close():
                log.error("the last writes could not be saved: %s", journal.failure)
                code = 1
            if self.unwritable_since is not None:
                log.error(
                    "stopping while the data dir is not writable (%s): %d writes were refused "
                    "with 503 and are not saved; every confirmed write is",
                    self.unwritable_reason,
                    self.refused_writes,
                )
                code = 1
        if self.compactor is not None:
            self.compactor.wait()
        journals = list_journals(self.state_path)
        journal_bytes = sum(path.stat().st_size for _, path in journals)
        if journals and not journal_bytes:  # nothing was written: nothing to keep
            for _, path in journals:
                with contextlib.suppress(OSError):
                    path.unlink()
        try:
            snapshot_bytes = self.state_path.stat().st_size
        except OSError:
            snapshot_bytes = 0
        # Tidy the data dir into one file when that is quick; a big snapshot with a small
        # journal is left for the next start to replay (the journal is durable either way).
        if journal_bytes and (
            snapshot_bytes < STOP_COMPACT_BYTES or journal_bytes * 8 > snapshot_bytes
        ):
            try:
                log.info("%s", compact(self.state_path, upto=self.next_generation))
            except (OSError, StateFileError) as exc:
                log.warning("final compaction failed (%s); the journals are kept and replayed", exc)
        return code


def run_server(
    server: LocalServer,
    host: str,
    port: int,
    region: str,
    ready: Callable[[int], None],
    stopping: Callable[[], bool],
    wait: Callable[[float], None],
    compact_interval: float,
) -> int:
    """Serve until ``stopping()``; the exit code."""
    from werkzeug.serving import make_server

    try:
        http = make_server(
            host, port, server, threaded=True, request_handler=mi.request_handler_class()
        )
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", host, port, exc)
        return 2
    mi.warm_up(server.app, region)
    serve_thread = threading.Thread(
        target=http.serve_forever, kwargs={"poll_interval": 0.2}, name="localdynamo-http"
    )
    serve_thread.start()

    def maintain() -> None:
        last_compact = time.monotonic()
        while not stopping():
            wait(1.0)
            server.retry_journal()
            if time.monotonic() - last_compact >= compact_interval:
                last_compact = time.monotonic()
                try:
                    server.maybe_compact()
                except Exception:  # noqa: BLE001 - logged; the journals are kept
                    log.exception("compaction could not start")

    threading.Thread(target=maintain, name="localdynamo-maintenance", daemon=True).start()
    gc.freeze()  # the restored tables live as long as the process
    ready(http.server_port)
    while not stopping():
        wait(0.5)
    drained = server.begin_shutdown(SHUTDOWN_DRAIN_SECONDS)
    http.shutdown()
    serve_thread.join(timeout=SHUTDOWN_DRAIN_SECONDS)
    if not drained:
        log.warning("requests still running after %.0fs", SHUTDOWN_DRAIN_SECONDS)
    code = server.finish()
    with contextlib.suppress(Exception):
        http.server_close()
    return code
