"""deploy/nginx.conf answers only for the shop's host name, rate-limits logins, registrations
and checkouts with 429, and serves only browser files from /static/ (issue 11, items 9, 10).

The running test starts the real nginx on a free port with the installed file, changed only
where this machine differs (port, upstream, static folder), in front of a stub upstream."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import DEPLOY, ROOT, free_port
from tests.ops.test_deploy import NGINX, NGINX_ACCESS_LOG, _nginx_wrapper

CONF = (DEPLOY / "nginx.conf").read_text()
SHOP = "shop.example.com"


def test_the_shop_server_has_a_server_name_and_unknown_hosts_are_closed():
    assert re.search(rf"server_name {re.escape(SHOP)};", CONF)
    default = re.search(
        r"server \{\s*listen 80 default_server;\s*server_name _;(.*?)\}", CONF, re.S
    )
    assert default and "return 444;" in default.group(1)


@pytest.mark.parametrize(
    ("zone", "paths"),
    [
        ("cloudstore_login", "api/auth/login|login"),
        ("cloudstore_register", "api/auth/register|register"),
        ("cloudstore_checkout", "api/orders|checkout"),
    ],
)
def test_login_registration_and_checkout_have_limit_req_zones(zone, paths):
    assert re.search(rf"limit_req_zone \$\S+ zone={zone}:\d+m rate=\d+r/m;", CONF)
    block = re.search(rf"location ~ \^/\({re.escape(paths)}\)\$ \{{(.*?)\}}", CONF, re.S)
    assert block and f"limit_req zone={zone} " in block.group(1)
    assert "limit_req_status 429;" in CONF


class Upstream(BaseHTTPRequestHandler):
    def _answer(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def _start_nginx(tmp_path, access_log: str | None = None):
    """nginx with the installed server block on a free port, before a stub upstream;
    `access_log` (a whole directive) replaces the server's own access log, which is
    otherwise off."""
    if NGINX is None:
        pytest.skip("nginx not installed (CI installs it: apt-get install -y nginx)")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    conf = (
        CONF.replace("listen 80", f"listen 127.0.0.1:{port}")
        .replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{upstream.server_port};")
        .replace("alias /opt/cloudstore/static/;", f"alias {ROOT}/static/;")
        .replace(NGINX_ACCESS_LOG, access_log or "access_log off;")
    )
    (tmp_path / "cloudstore.conf").write_text(conf)
    wrapper = _nginx_wrapper(tmp_path, tmp_path / "cloudstore.conf")
    if os.geteuid() == 0:  # workers as root too, so they may read the checkout's static/
        wrapper.write_text("user root;\n" + wrapper.read_text())
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(wrapper), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            break
        except OSError:
            time.sleep(0.05)

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()

    return port, stop


@pytest.fixture
def nginx(tmp_path):
    port, stop = _start_nginx(tmp_path)
    yield port
    stop()


def request(port: int, method: str, path: str, host: str = SHOP) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            method, path, body=b"" if method == "POST" else None, headers={"Host": host}
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_nginx_closes_a_request_for_another_host(nginx):
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        request(nginx, "GET", "/", host="evil.example")
    assert request(nginx, "GET", "/") == 200


def test_nginx_answers_429_to_a_burst_of_logins_but_not_to_reading_the_login_page(nginx):
    statuses = [request(nginx, "POST", "/api/auth/login") for _ in range(12)]
    assert statuses[0] == 200 and statuses[-1] == 429
    assert {request(nginx, "GET", "/login") for _ in range(12)} == {200}


@pytest.mark.parametrize("path", ["/static/vendor/htmx/LICENSE", "/static/vendor/inter/LICENSE"])
def test_nginx_does_not_serve_licences_from_static(nginx, path):
    assert request(nginx, "GET", path) == 404


def test_nginx_serves_browser_files_from_static(nginx):
    assert request(nginx, "GET", "/static/vendor/htmx/htmx.min.js") == 200


def test_the_reset_path_has_no_access_log():
    block = re.search(r"location = /reset-password \{(.*?)\}", CONF, re.S)
    assert block and "access_log off;" in block.group(1)
    assert "proxy_pass http://cloudstore_app;" in block.group(1)


def test_nginx_never_logs_a_reset_links_token(tmp_path):
    """With the server's access log on, other paths are logged, the reset page never (and
    no query string ever)."""
    log = tmp_path / "logs" / "access.log"
    port, stop = _start_nginx(tmp_path, f"access_log {log} cloudstore_json;")
    try:
        secret = "t0ken-that-must-stay-secret"
        assert request(port, "GET", f"/reset-password?token={secret}") == 200
        assert request(port, "POST", f"/reset-password?token={secret}") == 200
        assert request(port, "GET", "/login?after=reset") == 200
    finally:
        stop()  # nginx has written every line once it has stopped
    text = log.read_text()
    assert '"/login"' in text and "after=reset" not in text
    assert secret not in text and "/reset-password" not in text
