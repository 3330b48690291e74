"""The parent-process side: start the server as a child process and talk to it.

Only the standard library is imported here: a process that merely spawns the server never
imports moto.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("cloudstore.localdynamo")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_REGION = "ap-southeast-1"
DEFAULT_LOCK_TIMEOUT = 15.0
DEFAULT_COMPACT_BYTES = 32 << 20
DEFAULT_COMPACT_INTERVAL = 5.0
READY_PREFIX = "READY "


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent.parent)


def _is_site_dir(path: str) -> bool:
    import site

    dirs = list(getattr(site, "getsitepackages", list)())
    with contextlib.suppress(Exception):
        dirs.append(site.getusersitepackages())
    real = os.path.realpath(path)
    return any(os.path.realpath(d) == real for d in dirs)


def _child_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The child's environment, with ``cloudstore`` importable whatever the cwd.

    An installed package is found anyway; for a source checkout we prepend
    its root to ``PYTHONPATH`` (never a site-packages dir: that would put it
    ahead of the standard library).
    """
    out = dict(os.environ if env is None else env)
    root = _package_root()
    if not _is_site_dir(root):
        parts = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in parts:
            out["PYTHONPATH"] = os.pathsep.join([root, *parts])
    out.setdefault("PYTHONUNBUFFERED", "1")
    return out


def _death_signal_preexec() -> Callable[[], None] | None:
    """``prctl(PR_SET_PDEATHSIG, SIGTERM)`` for the child, Linux only.

    The kernel sends the signal when the *thread* that forked the child exits,
    so only use it when spawning from the main thread; otherwise the child
    relies on its ``--parent-pid`` watchdog alone.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolve before fork
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def _preexec() -> None:
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return _preexec


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class LocalDynamo:
    """A running ``python -m cloudstore.localdynamo`` child process."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        endpoint: str,
        state_path: Path,
        stderr_tail: collections.deque[str],
        readers: list[threading.Thread],
    ) -> None:
        self.process = process
        self.endpoint = endpoint
        self.state_path = state_path
        self._stderr_tail = stderr_tail
        self._readers = readers

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr_tail(self) -> str:
        """The last lines the child wrote to stderr (its log)."""
        return "".join(list(self._stderr_tail))

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM the child (it flushes and compacts), wait, SIGKILL on timeout.

        Returns the exit code: 0 on a clean stop, 1 when writes were left unsaved (the
        child says which on stderr). Every confirmed write is on disk either way.
        """
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if os.name == "posix":
                    proc.send_signal(signal.SIGTERM)
                else:  # pragma: no cover - no graceful signal on Windows
                    proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "local DynamoDB (pid %d) did not stop in %ss; killing", proc.pid, timeout
                )
                proc.kill()
                proc.wait()
        if proc.returncode is not None and proc.returncode > 0:
            log.error(
                "local DynamoDB (pid %d) stopped with exit code %d: see its errors above",
                proc.pid,
                proc.returncode,
            )
        for reader in self._readers:
            reader.join(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return proc.returncode

    def __enter__(self) -> LocalDynamo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self.process.returncode}"
        return f"<LocalDynamo {self.endpoint} pid={self.process.pid} {state}>"


def _pump_stderr(stream: Any, tail: collections.deque[str]) -> None:
    for line in iter(stream.readline, ""):
        tail.append(line)
        text = line.rstrip()
        level_name, _, rest = text.partition(" ")
        level = _LEVELS.get(level_name)
        if level is None:  # tracebacks, raw prints: surface them
            log.warning("%s", text)
        else:
            log.log(level, "%s", rest.removeprefix(f"{log.name}: "))


def _pump_stdout(stream: Any, ready: queue.Queue[str | None], tail: collections.deque[str]) -> None:
    announced = False
    for line in iter(stream.readline, ""):
        if not announced and line.startswith(READY_PREFIX):
            announced = True
            ready.put(line[len(READY_PREFIX) :].strip())
        else:
            tail.append(line)
    ready.put(None)


def start_local_dynamodb(
    state_path: Path,
    host: str = DEFAULT_HOST,
    port: int = 0,
    save_interval: float | None = None,
    env: Mapping[str, str] | None = None,
    *,
    region: str = DEFAULT_REGION,
    ready_timeout: float = 60.0,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    compact_bytes: int = DEFAULT_COMPACT_BYTES,
    compact_interval: float = DEFAULT_COMPACT_INTERVAL,
    verbose: bool = False,
    fast_scan: bool = True,
    fast_query: bool = True,
    fast_transactions: bool = True,
) -> LocalDynamo:
    """Spawn the local DynamoDB server and wait until it accepts requests.

    Every write it confirms is on disk (see the package docstring); starting it again on
    the same ``state_path`` (and ``port``, if given) brings back every confirmed write.
    ``save_interval`` is the old name of ``compact_interval`` (seconds between checks of
    the journal size); writes no longer wait for it.

    ``env`` is the child's complete environment (like ``subprocess.Popen``); ``None``
    inherits ours. The directory containing the ``cloudstore`` package is always put on
    ``PYTHONPATH``. The child's stderr is forwarded to the ``cloudstore.localdynamo``
    logger. Raises ``RuntimeError`` (with the tail of the child's stderr) if it exits or is
    not ready in time. Only one server runs per state file: a new one waits up to
    ``lock_timeout`` seconds for a previous one to exit, then fails.
    """
    state_path = Path(state_path).expanduser().resolve()
    if save_interval is not None:
        compact_interval = save_interval
    cmd = [
        sys.executable,
        "-m",
        "cloudstore.localdynamo",
        "--host",
        host,
        "--port",
        str(port),
        "--state",
        str(state_path),
        "--compact-bytes",
        str(compact_bytes),
        "--compact-interval",
        str(compact_interval),
        "--region",
        region,
        "--parent-pid",
        str(os.getpid()),
        "--lock-timeout",
        str(lock_timeout),
    ]
    if verbose:
        cmd.append("--verbose")
    for name, fast in (
        ("scan", fast_scan),
        ("query", fast_query),
        ("transactions", fast_transactions),
    ):
        if not fast:
            cmd.append(f"--original-{name}")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(env),
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        close_fds=True,
        start_new_session=True,  # a terminal Ctrl+C goes to the app, which stops us
        preexec_fn=_death_signal_preexec(),
    )
    tail: collections.deque[str] = collections.deque(maxlen=200)
    ready: queue.Queue[str | None] = queue.Queue()
    readers = [
        threading.Thread(
            target=_pump_stdout,
            args=(process.stdout, ready, tail),
            name="localdynamo-stdout",
            daemon=True,
        ),
        threading.Thread(
            target=_pump_stderr, args=(process.stderr, tail), name="localdynamo-stderr", daemon=True
        ),
    ]
    for reader in readers:
        reader.start()
    instance = LocalDynamo(process, "", state_path, tail, readers)

    try:
        endpoint = ready.get(timeout=ready_timeout)
    except queue.Empty:
        instance.stop(timeout=5)
        raise RuntimeError(
            f"local DynamoDB did not print READY within {ready_timeout:.0f}s; "
            f"stderr tail:\n{instance.stderr_tail()}"
        ) from None
    if endpoint is None:
        # stdout closed without READY: the child is exiting
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = instance.stop(timeout=5)
        for reader in readers:
            reader.join(timeout=2)
        raise RuntimeError(
            f"local DynamoDB exited with code {code} before it was ready; "
            f"stderr tail:\n{instance.stderr_tail()}"
        )
    instance.endpoint = endpoint
    return instance
