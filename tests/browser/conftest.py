"""Browser tests: the real server (`cloudstore serve`) in a subprocess and Debian's Chromium
driven by Playwright's sync API.

Run them in their own pytest invocation (`pytest tests/browser`): Playwright's sync API and
the asyncio loop pytest-asyncio keeps for the other tests do not mix in one process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SERVER_ENV: dict[str, str] = {}  # the environment `cloudstore serve` runs with (see server_env)

playwright_sync = pytest.importorskip("playwright.sync_api")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: real Chromium against `cloudstore serve`")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)


def _machine_postgres() -> str | None:
    """A fresh database on the machine's PostgreSQL, when it answers (else embedded)."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    import psycopg

    name = f"cloudstore_browser_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`cloudstore serve` on a free port with its own data dir, seeded catalog and local
    DynamoDB; yields the base URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    data_dir = tmp_path_factory.mktemp("cloudstore-data")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "RDS_", "DYNAMODB_", "CLOUDSTORE_", "JWT_"))
    }
    env.update(
        CLOUDSTORE_DATA_DIR=str(data_dir),
        JWT_SECRET_KEY="browser-tests-" + uuid.uuid4().hex,
        LOG_LEVEL="WARNING",
        CATALOG_REFRESH_SECONDS="0.5",
        # The admin places an order in several tests of one session.
        MAX_PENDING_ORDERS="1000",
        # Every test's shoppers sign up and in from 127.0.0.1: one client to the throttles.
        REGISTER_LIMIT="1000/hour",
        LOGIN_LIMIT="1000/hour",
    )
    database = _machine_postgres()
    if database:
        env["CLOUDSTORE_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{database}"
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    command = [sys.executable, "-m", "cloudstore", "serve", "--host", "127.0.0.1"]
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError((data_dir / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError("the server did not become healthy in 120 s")
        time.sleep(0.3)
    yield base
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    if database:
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def server_env(server) -> dict[str, str]:
    """The server's environment (data dir, database), for CLI commands against the same
    backends, e.g. `python -m cloudstore create-admin`."""
    return dict(SERVER_ENV)


@pytest.fixture(scope="session")
def browser():
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def clean_screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


class Watch:
    """What a page did that it must not: console errors, requests to another host."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.foreign: list[str] = []

    def attach(self, context) -> None:
        def route(route):
            host = urlsplit(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                route.continue_()
            else:
                self.foreign.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        context.on("page", self._page)

    def _page(self, page) -> None:
        def on_console(message):
            if message.type == "error":
                self.console_errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def check(self, allow: tuple[str, ...] = ()) -> None:
        errors = [e for e in self.console_errors if not any(a in e for a in allow)]
        assert not errors, f"console errors: {errors}"
        assert not self.foreign, f"requests to other hosts: {self.foreign}"


@pytest.fixture
def watch():
    return Watch()


def _context(browser, watch, **options):
    context = browser.new_context(base_url=options.pop("base_url"), **options)
    context.set_default_timeout(10_000)
    watch.attach(context)
    return context


@pytest.fixture
def context(browser, server, watch, request):
    context = _context(browser, watch, base_url=server, viewport={"width": 1280, "height": 900})
    yield context
    context.close()
    watch.check(allow=getattr(request.node, "allowed_console", ()))


@pytest.fixture
def page(context):
    page = context.new_page()
    return page


@pytest.fixture
def make_context(browser, server, watch):
    made = []

    def make(**options):
        context = _context(browser, watch, base_url=server, **options)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
