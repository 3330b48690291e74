"""Compaction and backups: fold the snapshot and journals into one new snapshot.

Runs in its own process (``python -m cloudstore.localdynamo.compact``), so a compaction of a
big state never holds the server's interpreter lock: requests go on meanwhile. It works on
the files only, never on the server's memory, so what it writes is exactly the durable
state: the snapshot plus whole journal records (a transaction is one record), never a
half-applied write.

- ``--upto G`` (what the server runs): fold the journals numbered up to G (closed ones),
  write the snapshot with generation G+1 atomically, then delete them.
- ``--to PATH`` (a backup, safe while the server runs): fold every journal, the one being
  written included, into a snapshot at PATH; nothing of the live state is changed. An
  incomplete last line of the live journal is a write still being committed: left out.

Both take ``<state>.compact.lock``, so a backup never reads a journal that a compaction is
deleting.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from cloudstore.localdynamo.flock import flock_within
from cloudstore.localdynamo.journal import list_journals, read_journal
from cloudstore.localdynamo.state import (
    FoldedState,
    StateFileError,
    gc_paused,
    load_snapshot,
    write_snapshot,
)

log = logging.getLogger("cloudstore.localdynamo")


@contextlib.contextmanager
def compaction_lock(state_path: Path, timeout: float = 600.0) -> Iterator[None]:
    fd = os.open(state_path.with_name(state_path.name + ".compact.lock"), os.O_RDWR | os.O_CREAT)
    try:
        if flock_within(fd, timeout) != "locked":
            raise StateFileError(f"{state_path}: another compaction is running")
        yield
    finally:
        os.close(fd)


def compact(state_path: Path, upto: int | None = None, to: Path | None = None) -> str:
    """Fold and write (see the module docstring); returns a one-line summary."""
    state_path = Path(state_path)
    started = time.perf_counter()
    with compaction_lock(state_path), gc_paused():
        folded = FoldedState(load_snapshot(state_path))
        journals = [
            (number, path)
            for number, path in list_journals(state_path)
            if number >= folded.generation and (upto is None or number <= upto)
        ]
        records = 0
        notes = []
        for number, path in journals:
            read = read_journal(path)
            for record in read.records:
                folded.apply(record)
            records += len(read.records)
            if read.dropped_bytes:
                live_tail = to is not None and number == journals[-1][0]
                if live_tail and read.reason == "an incomplete last line":
                    notes.append("a write still being committed was left out")
                else:
                    notes.append(read.describe_damage())
        generation = journals[-1][0] + 1 if journals else folded.generation
        if to is None and not records and not notes:
            for _number, path in journals:  # empty journals: nothing to fold
                path.unlink()
            return f"{state_path.name}: nothing to compact"
        size = write_snapshot(to or state_path, folded.document(generation))
        if to is None:
            for _number, path in journals:
                if any(path.name in note for note in notes):
                    path.rename(path.with_name(path.name + ".damaged"))
                else:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
    n_tables, n_items = folded.counts()
    what = f"backup {to}" if to else f"compacted {state_path.name}"
    summary = (
        f"{what}: {n_tables} tables, {n_items} items, {records} journal records from "
        f"{len(journals)} journal(s), {size} bytes in {time.perf_counter() - started:.2f}s"
    )
    return summary + "".join(f"; {note}" for note in notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cloudstore.localdynamo.compact",
        description="Fold the local DynamoDB's journals into its snapshot, or write a backup.",
    )
    parser.add_argument("--state", type=Path, required=True, help="the snapshot file")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--upto", type=int, help="fold closed journals up to this number")
    group.add_argument("--to", type=Path, help="write a backup snapshot here instead")
    args = parser.parse_args(argv)
    os.nice(10)  # a background job: the server's requests go first on a busy machine
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        summary = compact(args.state.expanduser().resolve(), args.upto, args.to)
    except (StateFileError, OSError) as exc:
        log.error("compaction of %s failed: %s", args.state, exc)
        return 1
    log.info("%s", summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
