"""A `cloudstore serve` in zero-config mode as a test's child process, its output in a file
the test can read while it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers import BACKEND_VARIABLES, free_port


def zero_config_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARIABLES}
    env["CLOUDSTORE_DATA_DIR"] = str(data_dir)
    env["LOG_LEVEL"] = "WARNING"
    return env


def call(
    base: str,
    method: str,
    path: str,
    body=None,
    token=None,
    timeout: float = 30,
    headers: dict | None = None,
):
    """One HTTP call: (status, parsed JSON body, or text)."""
    request = urllib.request.Request(base + path, method=method, headers=headers or {})
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            is_json = response.headers.get_content_type() == "application/json"
            return response.status, json.loads(raw) if is_json else raw.decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "cloudstore", "serve", "--port", str(port)]


class ServeProcess:
    """`cloudstore serve` on a free port, up (answering /health) when constructed."""

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        ready_within: float = 120,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        """`env` is added to the zero-config environment (e.g. external backends), `args` to
        the command line."""
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [*serve_command(self.port), *args],
            env={**zero_config_env(data_dir), **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited:\n{self.output()}")
            try:
                if call(self.base, "GET", "/health", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"serve did not answer /health in {ready_within} s:\n{self.output()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode
