"""A local DynamoDB endpoint for the zero-config mode, whose confirmed writes are on disk.

In zero-config mode Cloud Store runs without AWS, so moto's DynamoDB implementation serves
as a local endpoint: one server process (started by ``cloudstore serve`` or the test
session) that every app worker talks to over HTTP, as it would to DynamoDB. moto keeps
everything in memory; this package makes it durable and keeps it fast with history:

- **Durable** (``journal.py``, ``changes.py``, ``server.py``): no write is answered 2xx
  before what it changed is in the write-ahead journal and fsynced (group commit). At start
  the snapshot is loaded and the journals are replayed; a damaged journal tail (a write
  that was never confirmed) is cut off and reported, its bytes kept in ``*.damaged``. When
  the data dir cannot be written, writes (and DescribeTable, the app's readiness probe) are
  answered 503 ``ServiceUnavailable`` until it can again.
- **Consistent snapshots** (``compact.py``, ``state.py``): journals are folded into the
  snapshot by another process, from the files: a snapshot is the durable state after a
  whole number of write requests (a transaction is one), never a half-applied one; and the
  server never pauses for it.
- **Fast with history** (``patches/``): Scan, Query (on the table and on GSIs) and
  TransactWriteItems cost what the answer costs, not what the table holds.
- **Only what is used**: one account, any region, tables with GSIs. Local secondary indexes,
  streams, SSE, TTL, tags, PartiQL, backups and imports are refused with a
  ValidationException (``changes.refusal``); a state file using them is refused at start.
- **One place for moto's internals** (``moto_internals.py``): its ``check()`` stops the start
  when the installed moto is not the one this was written for.

Files, next to the snapshot ``<state>`` (``<data dir>/dynamodb.json``): the snapshot,
``<state>.journal.<n>`` (journals), ``<state>.lock`` (held by the running server),
``<state>.compact.lock``. A backup while running: ``python -m cloudstore.localdynamo.compact
--state <state> --to backup.json``.

From Python: :func:`start_local_dynamodb` (parent side, ``process.py``, imports no moto).
"""

from cloudstore.localdynamo.process import (
    DEFAULT_HOST,
    DEFAULT_REGION,
    READY_PREFIX,
    LocalDynamo,
    start_local_dynamodb,
)
from cloudstore.localdynamo.state import FORMAT_VERSION, StateFileError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_REGION",
    "FORMAT_VERSION",
    "READY_PREFIX",
    "LocalDynamo",
    "StateFileError",
    "start_local_dynamodb",
]
