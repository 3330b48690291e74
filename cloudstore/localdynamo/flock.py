"""Waiting for an exclusive `flock` (the state file's and the compaction's locks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

POLL_SECONDS = 0.05


def flock_within(
    fd: int, timeout: float, cancelled: Callable[[], bool] = lambda: False
) -> Literal["locked", "cancelled", "timed out"]:
    """Take an exclusive lock on `fd`, trying every `POLL_SECONDS` for up to `timeout`
    seconds or until `cancelled()` says to stop."""
    import fcntl  # not on Windows, where nothing here runs

    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return "locked"
        except BlockingIOError:
            if cancelled():
                return "cancelled"
            if time.monotonic() >= deadline:
                return "timed out"
            time.sleep(POLL_SECONDS)
