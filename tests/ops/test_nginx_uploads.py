"""deploy/nginx.conf lets the image upload routes (and only those) take bodies up to
MAX_UPLOAD_BYTES plus the form's allowance (6m for the default 5 MB), as the app does
(web/uploads.py); every other route keeps 1m. Checked with the real nginx in front of a
stub upstream that reads what it is sent."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cloudstore.settings import Settings
from cloudstore.web.uploads import is_upload_route, upload_body_limit
from tests.helpers import DEPLOY, ROOT, free_port
from tests.ops.test_deploy import NGINX, _nginx_wrapper

CONF = (DEPLOY / "nginx.conf").read_text()
SHOP = "shop.example.com"
MB = 1024 * 1024
UPLOAD_LOCATION = re.compile(r"location ~ (\^/\(admin/products\S*\)\$) \{(.*?)\}", re.S)


class ReadingUpstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            length -= len(self.rfile.read(min(length, 65536)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx not installed (CI installs it: apt-get install -y nginx)")
    tmp_path = tmp_path_factory.mktemp("nginx")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), ReadingUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    conf = (
        CONF.replace("listen 80", f"listen 127.0.0.1:{port}")
        .replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{upstream.server_port};")
        .replace("alias /opt/cloudstore/static/;", f"alias {ROOT}/static/;")
    )
    (tmp_path / "cloudstore.conf").write_text(conf)
    wrapper = _nginx_wrapper(tmp_path, tmp_path / "cloudstore.conf")
    if os.geteuid() == 0:
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
    yield port
    process.terminate()
    process.wait(timeout=10)
    upstream.shutdown()


def send(port: int, method: str, path: str, size: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=b"x" * size,
            headers={"Host": SHOP, "Content-Type": "application/octet-stream"},
        )
        return connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        return 413  # nginx answered 413 and closed while the body was still being sent
    finally:
        connection.close()


UPLOADS = [
    ("POST", "/admin/products"),
    ("PUT", "/admin/products/PROD-ABC123"),
    ("POST", "/admin/products/PROD-ABC123"),
    ("POST", "/api/admin/products/PROD-ABC123/image"),
]
OTHERS = [
    ("POST", "/admin/products/PROD-ABC123/stock"),
    ("POST", "/api/admin/products"),
    ("POST", "/login"),
    ("POST", "/cart/add"),
]


def test_the_upload_location_allows_the_apps_default_upload_limit():
    match = UPLOAD_LOCATION.search(CONF)
    assert match, "no upload location in nginx.conf"
    size = re.search(r"client_max_body_size (\d+)m;", match.group(2))
    assert size and int(size.group(1)) * MB == upload_body_limit(Settings())


@pytest.mark.parametrize(("method", "path"), UPLOADS + OTHERS)
def test_nginx_and_the_app_agree_on_which_routes_are_upload_routes(method, path):
    pattern = re.compile(UPLOAD_LOCATION.search(CONF).group(1))
    assert bool(pattern.match(path)) == is_upload_route(method, path)


@pytest.mark.parametrize(("method", "path"), UPLOADS)
def test_nginx_passes_a_5_mb_upload_on_the_upload_routes(nginx, method, path):
    assert send(nginx, method, path, 5 * MB + 1024) == 200


@pytest.mark.parametrize(("method", "path"), UPLOADS[:1] + UPLOADS[-1:])
def test_nginx_refuses_an_upload_over_its_limit(nginx, method, path):
    assert send(nginx, method, path, 6 * MB + 1024) == 413


@pytest.mark.parametrize(("method", "path"), OTHERS)
def test_nginx_keeps_1_mb_everywhere_else(nginx, method, path):
    assert send(nginx, method, path, MB + 1024) == 413
    assert send(nginx, method, path, 1000) in (200, 429)
