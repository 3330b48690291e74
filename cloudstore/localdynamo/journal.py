"""The write-ahead journal: one line per confirmed write request, fsynced before the answer.

Files sit next to the snapshot: ``<state>.journal.<generation>`` (``dynamodb.json.journal.
00000007``). A snapshot of generation G holds everything of the journals numbered below G;
the journals numbered G and up are replayed on top of it, in order. A running server
appends to exactly one journal; compaction closes it, starts the next number and folds the
closed ones into a new snapshot in another process (``compact.py``).

A line is ``<crc32 as 8 hex digits> <JSON record>\\n``; a record is everything one write
request changed::

    {"op": "TransactWriteItems", "r": "ap-southeast-1",
     "c": [["item", "Orders", {"user_id": {"S": "u1"}, ...}, {<the item>} or null],
           ["table", "Orders", {<table definition>} or null]]}

Group commit: request threads append their line to a buffer (under the server's request
lock, so the journal order is the order the writes happened) and wait; one flusher thread
writes whatever has gathered with one ``write`` and one ``fsync`` and then wakes them. If
that fails (a full disk), every waiting write fails, the file is cut back to its last
durable byte, and the server stops taking writes until a new journal can be written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudstore.localdynamo.state import fsync_directory

log = logging.getLogger("cloudstore.localdynamo")

_NAME = re.compile(r"\.journal\.(\d{8})$")


def journal_path(state_path: Path, generation: int) -> Path:
    return state_path.with_name(f"{state_path.name}.journal.{generation:08d}")


def list_journals(state_path: Path) -> list[tuple[int, Path]]:
    """Every journal of ``state_path``, by generation."""
    found = []
    prefix = f"{state_path.name}.journal."
    for path in state_path.parent.glob(f"{state_path.name}.journal.*"):
        match = _NAME.search(path.name)
        if match and path.name == prefix + match[1]:
            found.append((int(match[1]), path))
    return sorted(found)


def encode(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return b"%08x %s\n" % (zlib.crc32(body), body)


@dataclass
class JournalRead:
    """What one journal file held: the good records, and what was dropped after them."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    good_bytes: int = 0
    dropped_bytes: int = 0
    dropped_lines: int = 0
    dropped_ops: list[str] = field(default_factory=list)
    reason: str = ""

    def describe_damage(self) -> str:
        ops = ", ".join(self.dropped_ops) if self.dropped_ops else "none readable"
        return (
            f"journal {self.path.name} is damaged at byte {self.good_bytes} ({self.reason}): "
            f"dropped {self.dropped_bytes} bytes in {self.dropped_lines} line(s) after "
            f"{len(self.records)} good record(s); dropped writes: {ops}"
        )


def read_journal(path: Path, limit: int | None = None) -> JournalRead:
    """Parse ``path`` (its first ``limit`` bytes); stop at the first line that is incomplete
    or fails its checksum, and report that line and everything after it as dropped."""
    with open(path, "rb") as fh:
        data = fh.read() if limit is None else fh.read(limit)
    out = JournalRead(path)
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        line = data[position:] if end < 0 else data[position:end]
        problem = _problem(line, end < 0)
        if problem:
            out.reason = problem
            break
        out.records.append(json.loads(line[9:]))
        position = end + 1
    out.good_bytes = position
    if position < len(data):
        rest = data[position:]
        out.dropped_bytes = len(rest)
        lines = [piece for piece in rest.split(b"\n") if piece.strip(b"\0")]
        out.dropped_lines = len(lines)
        out.dropped_ops = [_op_of(piece) for piece in lines]
    return out


def _problem(line: bytes, unterminated: bool) -> str:
    if unterminated:
        return "an incomplete last line"
    if len(line) < 10 or line[8:9] != b" ":
        return "a line without a checksum"
    try:
        expected = int(line[:8], 16)
    except ValueError:
        return "a line without a checksum"
    if zlib.crc32(line[9:]) != expected:
        return "a checksum mismatch"
    try:
        json.loads(line[9:])
    except ValueError:
        return "a line that is not JSON"
    return ""


def _op_of(line: bytes) -> str:
    """Best effort: name the operation and tables of a dropped line, even a cut-off one."""
    try:
        record = json.loads(line[9:])
        tables = sorted({c[1] for c in record["c"]})
        return f"{record.get('op', '?')} on {'/'.join(tables)}"
    except (ValueError, KeyError, TypeError, IndexError):
        text = line.decode("ascii", "replace")
        op = re.search(r'"op":"(\w+)"', text)
        tables = sorted(set(re.findall(r'\["(?:item|table)","([^"]+)"', text)))
        if not op:
            return f"unreadable ({len(line)} bytes)"
        return f"{op[1]} on {'/'.join(tables) or '?'} (incomplete)"


class JournalFailed(OSError):
    """The journal could not be written; the write it carried is not durable."""


class JournalWriter:
    """Appends records to one journal file with group commit (see the module docstring)."""

    def __init__(
        self,
        state_path: Path,
        generation: int,
        on_failure: Callable[[JournalWriter, OSError], None] = lambda _w, _e: None,
    ) -> None:
        self.generation = generation
        self.path = journal_path(state_path, generation)
        self._on_failure = on_failure
        # O_EXCL: a journal is never appended to by a second writer or after a restart.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        try:
            os.fsync(self._fd)
            fsync_directory(self.path.parent)
        except OSError:
            os.close(self._fd)
            raise
        self._cond = threading.Condition()
        self._pending: list[bytes] = []
        self._next_seq = 1
        self._durable_seq = 0
        self.durable_offset = 0
        self.failure: OSError | None = None
        self._closing = False
        self.batches = 0
        self._thread = threading.Thread(target=self._flush_loop, name="journal", daemon=True)
        self._thread.start()

    # ---- request side

    def append(self, record: dict[str, Any]) -> int:
        """Queue one record; returns its sequence number for :meth:`wait`."""
        line = encode(record)
        with self._cond:
            if self.failure is not None:
                raise JournalFailed(self.failure.errno, f"journal not writable: {self.failure}")
            if self._closing:
                raise JournalFailed(0, "journal closed")
            self._pending.append(line)
            seq = self._next_seq
            self._next_seq += 1
            self._cond.notify_all()
            return seq

    def wait(self, seq: int) -> None:
        """Return once record ``seq`` is on disk; raise JournalFailed if it never will be."""
        with self._cond:
            while self._durable_seq < seq and self.failure is None:
                self._cond.wait()
            if self._durable_seq < seq:
                raise JournalFailed(self.failure.errno, f"journal write failed: {self.failure}")

    @property
    def size(self) -> int:
        return self.durable_offset

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._pending and self._durable_seq == self._next_seq - 1

    # ---- lifecycle

    def close(self) -> bool:
        """Flush what is queued and close; True if every appended record is durable."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        with self._cond:
            ok = self.failure is None and self._durable_seq == self._next_seq - 1
        try:
            os.close(self._fd)
        except OSError:
            ok = False
        return ok

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return  # closing, nothing left
                batch = b"".join(self._pending)
                self._pending.clear()
                upto = self._next_seq - 1
            try:
                view = memoryview(batch)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                os.fsync(self._fd)
            except OSError as exc:
                self._fail(exc)
                return
            with self._cond:
                self.durable_offset += len(batch)
                self._durable_seq = upto
                self.batches += 1
                self._cond.notify_all()

    def _fail(self, exc: OSError) -> None:
        with self._cond:
            self.failure = exc
            self._cond.notify_all()
        try:  # cut off a partly written batch, so the file ends with its last durable line
            os.ftruncate(self._fd, self.durable_offset)
            os.fsync(self._fd)
        except OSError as cut:
            log.error(
                "journal %s: cannot cut back to byte %d: %s", self.path, self.durable_offset, cut
            )
        self._on_failure(self, exc)
