"""Tying processes' lives together on Linux (`prctl`); a no-op elsewhere.

- `die_with_parent`: a hypercorn worker of `cloudstore serve` asks the kernel for a signal
  when serve is gone, so no worker keeps serving (and holding the port) after a SIGKILL.
- `become_subreaper`: `cloudstore serve` adopts its orphaned descendants. pg_ctl detaches
  the postmaster it starts; as a subreaper serve becomes its parent, can tell at once that
  it died and collects it. Otherwise a killed postmaster waits as a zombie for PID 1 to
  collect it (which some containers' PID 1 never does), and PostgreSQL will not start on a
  data dir whose postmaster.pid names a process that still exists, even a zombie.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int, signum: int = signal.SIGTERM) -> bool:
    """Have `signum` sent to this process when the thread that started it ends. True if the
    kernel took the request. A parent that was already gone gets the signal sent now."""
    armed = _prctl(PR_SET_PDEATHSIG, int(signum))
    if armed and os.getppid() != parent_pid:  # it died before we asked
        os.kill(os.getpid(), signum)
    return armed


def become_subreaper() -> bool:
    """Adopt orphaned descendants (instead of PID 1); True where supported."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)
