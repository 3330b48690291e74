"""Operations inside the app: readiness, request ids, JSON logs, forwarded headers from trusted
proxies only, and content-hashed static URLs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from quart import Quart, url_for

from cloudstore import create_app
from cloudstore.observability import JsonFormatter, request_id_var, sane_request_id
from cloudstore.web.proxy import TrustedProxies, client_from_forwarded_for
from cloudstore.web.static_files import IMMUTABLE, init_static_files

ROOT = Path(__file__).resolve().parents[2]
NGINX = ("127.0.0.1", 51000)  # the trusted proxy's address as the app sees it
STRANGER = ("198.51.100.20", 40000)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe closes


def request_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "cloudstore.request"
    ]


# --- readiness ------------------------------------------------------------------------------


async def test_ready_is_200_when_postgresql_and_dynamodb_answer(client):
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert await response.get_json() == {
        "success": True,
        "status": "ready",
        "checks": {"postgresql": "ok", "dynamodb": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("down", ["dynamodb", "postgresql"])
async def test_ready_is_503_naming_the_backend_that_is_down_while_health_stays_200(settings, down):
    if down == "dynamodb":
        broken = settings.with_overrides(dynamodb_endpoint=f"http://127.0.0.1:{closed_port()}")
    else:
        broken = settings.with_overrides(
            database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/none",
            backend_timeout=1.0,
        )
    app = create_app(broken)
    async with app.test_app():
        client = app.test_client()
        response = await client.get("/health/ready")
        assert response.status_code == 503
        body = await response.get_json()
        assert body["success"] is False
        assert body["status"] == "not ready"
        assert body["error"] == f"not ready: {down}"
        assert body["checks"][down] in ("unavailable", "timeout")
        healthy = "postgresql" if down == "dynamodb" else "dynamodb"
        assert body["checks"][healthy] == "ok"
        assert response.headers["Retry-After"]
        # Liveness calls no backend: the process is alive, so it is 200.
        assert (await client.get("/health")).status_code == 200


# --- request ids and the request log --------------------------------------------------------


async def test_request_id_is_generated_returned_and_logged_once_as_json(client, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.request"):
        response = await client.get(
            "/api/products?limit=1&token=sekrit-token",
            headers={
                "Authorization": "Bearer sekrit-bearer",
                "Cookie": "cs_session=sekrit-cookie",
                "User-Agent": "probe/1.0",
            },
            scope_base={"client": STRANGER},
        )
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    [line] = request_lines(caplog)
    assert line["request_id"] == request_id
    assert line["method"] == "GET"
    assert line["path"] == "/api/products"  # never the query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["client_ip"] == STRANGER[0]
    assert line["user_agent"] == "probe/1.0"
    assert line["logger"] == "cloudstore.request" and line["level"] == "INFO"
    assert "sekrit" not in json.dumps(line)


async def test_a_sane_request_id_from_the_client_is_kept(client):
    response = await client.get("/health", headers={"X-Request-ID": "lb-7f3a:42"})
    assert response.headers["X-Request-ID"] == "lb-7f3a:42"


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "tab\there", "ünïcode"])
async def test_an_unreasonable_request_id_is_replaced(client, bad):
    response = await client.get("/health", headers={"X-Request-ID": bad})
    assert response.headers["X-Request-ID"] != bad
    assert len(response.headers["X-Request-ID"]) == 32


def test_sane_request_id_accepts_printable_ascii_up_to_128_characters():
    assert sane_request_id(b"a" * 128) == "a" * 128
    assert sane_request_id(b"a" * 129) is None
    assert sane_request_id(b"\xff\xfe") is None
    assert sane_request_id(b"") is None


async def test_errors_get_a_request_id_and_a_log_line_too(client, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.request"):
        response = await client.get("/api/products/PROD-NOPE")
    assert response.status_code == 404
    [line] = request_lines(caplog)
    assert line["status"] == 404
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_audit_records_come_out_as_json_with_their_fields_and_the_request_id():
    record = logging.LogRecord(
        "cloudstore.audit", logging.INFO, __file__, 1, "admin write", (), None
    )
    record.audit = {"who": "USR-1", "action": "update_product", "after": {"price": Decimal("5")}}
    token = request_id_var.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["logger"] == "cloudstore.audit"
    assert line["message"] == "admin write"
    assert line["request_id"] == "req-1"
    assert line["audit"] == {"who": "USR-1", "action": "update_product", "after": {"price": "5"}}


def test_configure_logging_is_idempotent():
    from cloudstore.observability import JsonHandler, configure_logging

    configure_logging("WARNING")
    configure_logging("WARNING")
    root = logging.getLogger()
    assert sum(isinstance(h, JsonHandler) for h in root.handlers) == 1
    assert root.level == logging.WARNING


# --- forwarded headers ----------------------------------------------------------------------


async def test_forwarded_headers_from_the_local_proxy_set_client_ip_and_https(client, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.request"):
        response = await client.get(
            "/api/products?limit=1",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
            scope_base={"client": NGINX},
        )
    [line] = request_lines(caplog)
    assert line["client_ip"] == "203.0.113.7"
    # https detection: the app sends HSTS only on https requests.
    assert "Strict-Transport-Security" in response.headers


async def test_forwarded_headers_from_anyone_else_are_ignored(client, caplog):
    with caplog.at_level(logging.INFO, logger="cloudstore.request"):
        response = await client.get(
            "/api/products?limit=1",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
            scope_base={"client": STRANGER},
        )
    [line] = request_lines(caplog)
    assert line["client_ip"] == STRANGER[0]
    assert "Strict-Transport-Security" not in response.headers


async def test_a_forged_left_part_of_x_forwarded_for_is_not_believed(client, caplog):
    # The client sent "X-Forwarded-For: 10.0.0.1"; nginx appended the address it saw.
    with caplog.at_level(logging.INFO, logger="cloudstore.request"):
        await client.get(
            "/api/products?limit=1",
            headers={"X-Forwarded-For": "10.0.0.1, 203.0.113.9"},
            scope_base={"client": NGINX},
        )
    [line] = request_lines(caplog)
    assert line["client_ip"] == "203.0.113.9"


def test_client_is_the_rightmost_untrusted_hop():
    trusted = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert client_from_forwarded_for(["1.1.1.1", "2.2.2.2", "10.1.2.3"], trusted) == "2.2.2.2"
    assert client_from_forwarded_for(["10.0.0.5", "127.0.0.1"], trusted) == "10.0.0.5"
    assert client_from_forwarded_for(["garbage"], trusted) is None
    assert "::ffff:127.0.0.1" in trusted
    assert "8.8.8.8" not in trusted
    assert "8.8.8.8" in TrustedProxies(["*"])


def test_forwarded_allow_ips_must_be_addresses_or_networks(settings):
    from cloudstore.settings import SettingsError

    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        settings.with_overrides(forwarded_allow_ips=("nginx.local",)).validate()


# --- static files ---------------------------------------------------------------------------


async def test_static_urls_carry_the_content_hash_and_are_cached_for_a_year(app, client):
    async with app.test_request_context("/"):
        url = url_for("static", filename="css/site.css")
    digest = hashlib.sha256((ROOT / "static/css/site.css").read_bytes()).hexdigest()
    assert url == f"/static/css/site.css?v={digest[:12]}"

    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    etag = response.headers["ETag"]
    assert etag == f'"{digest[:32]}"'

    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304

    unversioned = await client.get("/static/css/site.css")
    assert unversioned.headers["Cache-Control"] == "public, max-age=300"
    assert unversioned.headers["ETag"] == etag
    stale = await client.get("/static/css/site.css?v=000000000000")
    assert "immutable" not in stale.headers["Cache-Control"]


async def test_static_url_changes_when_the_file_changes(tmp_path):
    folder = tmp_path / "static"
    (folder / "css").mkdir(parents=True)
    sheet = folder / "css" / "site.css"
    sheet.write_text("body { color: black; }")
    app = Quart(__name__, static_folder=str(folder))
    init_static_files(app)

    async def current_url() -> str:
        async with app.test_request_context("/"):
            return url_for("static", filename="css/site.css")

    first = await current_url()
    assert first == await current_url()  # stable while the file is unchanged
    sheet.write_text("body { color: rebeccapurple; }")
    stat = sheet.stat()
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = await current_url()
    assert second != first
    expected = hashlib.sha256(sheet.read_bytes()).hexdigest()[:12]
    assert second == f"/static/css/site.css?v={expected}"
    async with app.test_request_context("/"):
        assert "v=" not in url_for("static", filename="css/missing.css")


async def test_static_url_in_templates_follows_a_changed_file(tmp_path, monkeypatch):
    folder = tmp_path / "static"
    folder.mkdir()
    script = folder / "app.js"
    script.write_text("let a = 1;")
    app = Quart(__name__, static_folder=str(folder))
    versions = init_static_files(app)
    monkeypatch.setattr("cloudstore.web.static_files.RECHECK_SECONDS", 0.0)
    async with app.test_request_context("/"):
        first = versions.url("app.js")
        script.write_text("let a = 2;")
        stat = script.stat()
        os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        second = versions.url("app.js")
    assert first != second
    assert second == f"/static/app.js?v={hashlib.sha256(b'let a = 2;').hexdigest()[:12]}"
