"""The ASGI entry point for hypercorn: `hypercorn cloudstore.asgi:app`."""

from __future__ import annotations

import multiprocessing
import os
import signal

from cloudstore import create_app, graceful
from cloudstore.lifeline import die_with_parent


def _finish_in_flight_on_sigterm() -> None:
    """Keep a hypercorn worker alive until its in-flight requests are answered.

    With `workers >= 1`, hypercorn's main process handles SIGTERM by setting a shared shutdown
    event (each worker then stops accepting, drains for `graceful_timeout` and exits), but as
    soon as the *first* worker has exited it sends SIGTERM to the others, which have no
    handler and die mid-request (hypercorn 0.18, `hypercorn/run.py`). So a worker ignores
    SIGTERM while its main process lives: the shutdown is already under way, and Python's
    multiprocessing makes the main process wait for it to finish. A worker whose main process
    is gone takes SIGTERM as usual, and the kernel sends it one when that happens.
    """
    if multiprocessing.parent_process() is None:  # not a hypercorn worker (workers = 0, ...)
        return
    parent_pid = os.getppid()

    def on_sigterm(_signum, _frame) -> None:
        # getppid, not parent.is_alive(): a handler may run again while the first one is still
        # inside it (hypercorn sends SIGTERM twice), and is_alive() imports lazily, which fails
        # when re-entered. A worker whose main process died is re-parented.
        if os.getppid() == parent_pid:
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    # And when the main process dies without a shutdown (SIGKILL), so does the worker.
    die_with_parent(parent_pid)


_finish_in_flight_on_sigterm()
graceful.install()  # shutdown closes kept-alive connections without resetting them
app = create_app()
