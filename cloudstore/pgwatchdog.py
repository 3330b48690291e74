"""Stops the embedded PostgreSQL when the process that started it is gone.

pgserver starts the postmaster through `pg_ctl`, which detaches it: nothing ties its life to
`cloudstore serve`, so a SIGKILLed serve left PostgreSQL running. The parent runs this file
(standard library only, started by path so it is up in milliseconds) in a session of its own,
with a pipe on its stdin whose write end only the parent holds. However the parent ends, even
by SIGKILL, the kernel closes that end and the read below returns. Then the postmaster named
in `<pgdata>/postmaster.pid` at that moment (one the supervisor restarted, too) gets a fast
shutdown (SIGINT), then SIGQUIT, then SIGKILL. A parent that leaves PostgreSQL running on
purpose (another process still uses it) writes `detach` before closing the pipe.

Usage: python pgwatchdog.py PGDATA
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

DETACH = b"detach"
# (signal, seconds to wait for the postmaster to exit after it)
STOP_STEPS = ((signal.SIGINT, 20.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0))


def pid_exists(pid: int) -> bool:
    """Whether a process `pid` exists (a zombie, too). `embedded.py` uses this as well."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid: int) -> bool:
    if not pid_exists(pid):
        return False
    try:  # a zombie has exited; only its parent has not collected it yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def postmaster_pid(pgdata: Path) -> int | None:
    """The running postmaster of `pgdata`, checked against its command line where /proc
    exists, so a recycled pid is never signalled."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return pid if not Path("/proc/self").exists() and _alive(pid) else None
    except OSError:
        return None
    return pid if os.fsencode(str(pgdata)) in arguments and _alive(pid) else None


def stop_postmaster(pgdata: Path) -> bool:
    """Shut the postmaster of `pgdata` down; True when none is left running."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return True
    for signum, patience in STOP_STEPS:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.05)
    return not _alive(pid)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    pgdata = Path(argv[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the pipe tells this process to act
    message = sys.stdin.buffer.read()  # returns when the parent closes the pipe or dies
    if message.strip() == DETACH:
        return 0
    return 0 if stop_postmaster(pgdata) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
