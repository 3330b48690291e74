"""hypercorn as systemd runs it (deploy/hypercorn.toml, 2 workers; only the bind is changed, to
a free port), on the session's PostgreSQL and DynamoDB: readiness, the JSON request log, a
request in flight when SIGTERM arrives, and nginx (deploy/nginx.conf) in front of it."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.helpers import BACKEND_VARIABLES, free_port, unique_email
from tests.ops.test_deploy import HYPERCORN_BIND, NGINX_ACCESS_LOG

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The unit's env file may trust proxies; these tests set their own.
SERVER_VARIABLES = (*BACKEND_VARIABLES, "FORWARDED_ALLOW_IPS")


def wait_until(condition, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def call(url: str, method: str = "GET", body=None, headers: dict | None = None):
    """(status, headers, raw body) without raising on 4xx/5xx."""
    request = urllib.request.Request(url, method=method, headers=headers or {})  # noqa: S310
    if body is not None:
        request.data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class Hypercorn:
    """`hypercorn --config deploy/hypercorn.toml --bind 127.0.0.1:<free> cloudstore.asgi:app`"""

    def __init__(self, postgres_url: str, dynamodb_endpoint: str, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        prefix = f"ops{uuid.uuid4().hex[:8]}"
        env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
        env.update(
            CLOUDSTORE_DATABASE_URL=postgres_url,
            DYNAMODB_ENDPOINT=dynamodb_endpoint,
            JWT_SECRET_KEY="ops-test-" + uuid.uuid4().hex,
            DYNAMODB_PRODUCTS_TABLE=f"{prefix}_Products",
            DYNAMODB_ORDERS_TABLE=f"{prefix}_Orders",
            DYNAMODB_CART_TABLE=f"{prefix}_Cart",
            CLOUDSTORE_DATA_DIR=str(workdir / "data"),
            LOG_LEVEL="INFO",
            BACKEND_TIMEOUT="5",
            BCRYPT_ROUNDS="4",
        )
        workdir.mkdir(parents=True, exist_ok=True)
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hypercorn",
                "--config",
                str(DEPLOY / "hypercorn.toml"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "cloudstore.asgi:app",
            ],
            env=env,
            cwd=workdir,  # no stray .env is read
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            wait_until(self._ready, 90, "/health/ready to answer 200")
            wait_until(lambda: len(self.worker_pids()) == 2, 30, "two workers to start")
        except AssertionError:
            self.stop()
            raise AssertionError("hypercorn did not become ready:\n" + self.output()) from None

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("hypercorn exited:\n" + self.output())
        try:
            return call(self.base + "/health/ready")[0] == 200
        except OSError:
            return False

    def output(self) -> str:
        return "\n".join(self.lines)

    def json_lines(self) -> list[dict]:
        entries = []
        for line in list(self.lines):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries

    def request_lines(self) -> list[dict]:
        return [e for e in self.json_lines() if e.get("logger") == "cloudstore.request"]

    def worker_pids(self) -> set[int]:
        return {
            e["pid"]
            for e in self.json_lines()
            if e.get("logger") == "hypercorn.error" and "Running on" in e.get("message", "")
        }

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        return self.process.returncode


@pytest.fixture(scope="module")
def server(postgres_url, dynamodb, tmp_path_factory):
    running = Hypercorn(postgres_url, dynamodb.endpoint, tmp_path_factory.mktemp("hypercorn"))
    yield running
    running.stop()


def test_hypercorn_with_the_deploy_config_and_two_workers_answers_ready(server):
    status, headers, body = call(server.base + "/health/ready")
    assert status == 200, body
    assert json.loads(body) == {
        "success": True,
        "status": "ready",
        "checks": {"postgresql": "ok", "dynamodb": "ok"},
    }
    assert len(server.worker_pids()) == 2
    # Every line hypercorn and the app wrote is JSON (nothing printed twice in plain text).
    assert all(line.startswith("{") for line in server.lines if line.strip()), server.output()


def test_each_request_writes_one_json_line_with_the_request_id_it_returns(server):
    request_id = f"ops-{uuid.uuid4().hex[:8]}"
    status, headers, _ = call(
        server.base + "/api/products?limit=2&token=sekrit",
        headers={"X-Request-ID": request_id, "Authorization": "Bearer sekrit"},
    )
    assert status == 200
    assert headers["X-Request-ID"] == request_id
    wait_until(
        lambda: any(e.get("request_id") == request_id for e in server.request_lines()),
        10,
        "the request's log line",
    )
    lines = [e for e in server.request_lines() if e.get("request_id") == request_id]
    assert len(lines) == 1
    [line] = lines
    assert line["method"] == "GET" and line["path"] == "/api/products"
    assert line["status"] == 200 and line["duration_ms"] >= 0
    assert line["client_ip"] == "127.0.0.1"
    assert line["level"] == "INFO" and line["pid"] in server.worker_pids()
    assert "sekrit" not in server.output()

    generated = call(server.base + "/api/products/PROD-NOPE")[1]["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def _locks_waited_on(postgres_url: str) -> int:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


def test_a_request_in_flight_when_sigterm_arrives_completes(postgres_url, dynamodb, tmp_path):
    """A login is held inside PostgreSQL (the users table is locked by the test), SIGTERM
    reaches hypercorn's main process (as systemd's KillMode=mixed sends it), the lock is
    released a second later: the login still answers 200 and hypercorn then exits 0."""
    server = Hypercorn(postgres_url, dynamodb.endpoint, tmp_path / "sigterm")
    try:
        email, password = unique_email("sigterm"), "rahasia1"
        status, _, body = call(
            server.base + "/api/auth/register",
            "POST",
            {"name": "Sigterm", "email": email, "password": password},
        )
        assert status == 201, body

        answer: dict = {}

        def login() -> None:
            answer["response"] = call(
                server.base + "/api/auth/login", "POST", {"email": email, "password": password}
            )

        with psycopg.connect(postgres_url) as locker:
            locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            in_flight = threading.Thread(target=login)
            in_flight.start()
            wait_until(lambda: _locks_waited_on(postgres_url) >= 1, 15, "the login to block")
            server.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert server.process.poll() is None, (
                "hypercorn exited with a request in flight:\n" + server.output()
            )
            assert in_flight.is_alive()
            locker.rollback()
        in_flight.join(timeout=30)

        status, headers, body = answer["response"]
        assert status == 200, body
        assert json.loads(body)["token"]
        assert server.process.wait(timeout=30) == 0, server.output()
        logins = [e for e in server.request_lines() if e["path"] == "/api/auth/login"]
        assert [e["status"] for e in logins] == [200]
        assert logins[0]["request_id"] == headers["X-Request-ID"]
        assert logins[0]["duration_ms"] >= 1000
    finally:
        server.stop()


# --- nginx in front -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx(server, tmp_path_factory):
    """deploy/nginx.conf with only its machine-specific values replaced: the port it listens
    on (both server blocks), the shop's host name, hypercorn's port and the static folder."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.skip("nginx not installed (CI installs it: apt-get install -y nginx)")
    workdir = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = (DEPLOY / "nginx.conf").read_text()
    for old, new in {
        "listen 80 default_server;": f"listen 127.0.0.1:{port} default_server;",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "server_name shop.example.com;": "server_name 127.0.0.1;",
        f"server {HYPERCORN_BIND};": f"server 127.0.0.1:{server.port};",
        "alias /opt/cloudstore/static/;": f"alias {ROOT}/static/;",
        NGINX_ACCESS_LOG: f"access_log {workdir}/logs/access.log cloudstore_json;",
    }.items():
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    (workdir / "cloudstore.conf").write_text(conf)
    (workdir / "logs").mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (workdir / "nginx.conf").write_text(
        f"{user}pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/logs/error.log warn;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    access_log off;\n"
        f"    client_body_temp_path {workdir}/client_body;\n"
        f"    proxy_temp_path {workdir}/proxy;\n"
        f"    include {workdir}/cloudstore.conf;\n"
        "}\n"
    )
    process = subprocess.Popen(
        [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError("nginx exited:\n" + process.stdout.read())
        try:
            return call(base + "/health")[0] == 200
        except OSError:
            return False

    try:
        wait_until(answers, 20, "nginx to answer")
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_behind_nginx_the_app_sees_the_real_client_and_the_request_id(server, nginx):
    request_id = f"edge-{uuid.uuid4().hex[:8]}"
    status, headers, _ = call(
        nginx + "/api/products?limit=1",
        headers={"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.5"},
    )
    assert status == 200
    assert headers["X-Request-ID"] == request_id
    wait_until(
        lambda: any(e.get("request_id") == request_id for e in server.request_lines()),
        10,
        "the request's log line",
    )
    [line] = [e for e in server.request_lines() if e.get("request_id") == request_id]
    # nginx appended 127.0.0.1 (trusted) to the client's header; the hop before it is the client.
    assert line["client_ip"] == "203.0.113.5"

    # Without an id from the client, nginx makes one and the app keeps it.
    generated = call(nginx + "/health")[1]["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_nginx_serves_versioned_static_files_for_a_year_and_others_briefly(nginx):
    status, _, page = call(nginx + "/")
    assert status == 200
    match = re.search(r'href="(/static/css/site\.css\?v=([0-9a-f]{12}))"', page.decode())
    assert match, "the page links its stylesheet with a content hash"
    status, headers, _ = call(nginx + match.group(1))
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["ETag"]
    assert "hypercorn" not in headers.get("Server", "")  # served by nginx, not the app
    status, headers, _ = call(nginx + "/static/css/site.css")
    assert headers["Cache-Control"] == "public, max-age=300"


def test_nginx_compresses_text_and_refuses_bodies_over_one_megabyte(nginx):
    status, headers, body = call(nginx + "/", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(body).lower()

    status, _, _ = call(nginx + "/api/auth/login", "POST", b"x" * (1024 * 1024 + 1))
    assert status == 413
