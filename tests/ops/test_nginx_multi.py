"""deploy/nginx.conf logs the request id it passes on, and deploy/nginx-multi.conf (several
app instances behind one nginx) is valid for the real nginx, keeps nginx.conf's server blocks,
spreads requests over its instances and passes over one that is down."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import DEPLOY, ROOT, free_port
from tests.ops.test_deploy import NGINX, _nginx_wrapper

SINGLE = DEPLOY / "nginx.conf"
MULTI = DEPLOY / "nginx-multi.conf"
ACCESS_LOG = "access_log /var/log/nginx/cloudstore.access.log cloudstore_json;"
SHOP = "shop.example.com"

needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx not installed (CI installs it: apt-get install -y nginx)"
)


def _upstream_block(conf: str) -> str:
    match = re.search(r"upstream cloudstore_app \{(.*?)\n\}", conf, re.S)
    assert match, "no upstream cloudstore_app"
    return match.group(1)


def _without_comments(conf: str) -> list[str]:
    return [
        line.split("#", 1)[0].rstrip()
        for line in conf.splitlines()
        if line.split("#", 1)[0].strip()
    ]


def for_this_machine(
    conf: str, tmp_path: Path, upstreams: list[int] | None = None
) -> tuple[Path, int]:
    """The file with only machine-specific values changed: the port it listens on, the
    access log's folder, the static folder and (when given) the upstream servers."""
    port = free_port()
    assert conf.count(ACCESS_LOG) == 1
    conf = (
        conf.replace("listen 80", f"listen 127.0.0.1:{port}")
        .replace(ACCESS_LOG, f"access_log {tmp_path}/access.log cloudstore_json;")
        .replace("alias /opt/cloudstore/static/;", f"alias {ROOT}/static/;")
    )
    if upstreams is not None:
        servers = "".join(
            f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in upstreams
        )
        conf = re.sub(r"(    server \S+ max_fails=3 fail_timeout=10s;\n)+", servers, conf)
    path = tmp_path / "cloudstore.conf"
    path.write_text(conf)
    return path, port


class Instance(BaseHTTPRequestHandler):
    """A stand-in app instance: answers with its name and the request id it received."""

    name = "?"

    def do_GET(self):
        body = json.dumps({"instance": self.name, "request_id": self.headers["X-Request-ID"]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def start_instance(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), type(name, (Instance,), {"name": name}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Nginx:
    def __init__(self, conf: Path, port: int, tmp_path: Path) -> None:
        wrapper = _nginx_wrapper(tmp_path, conf)
        if os.geteuid() == 0:
            wrapper.write_text("user root;\n" + wrapper.read_text())
        self.port = port
        self.process = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(wrapper), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(200):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Host": SHOP, **(headers or {})})
            response = connection.getresponse()
            body = response.read()
            return response.status, json.loads(body) if response.status == 200 else {}
        finally:
            connection.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_nginx_multi_has_an_upstream_of_several_servers():
    servers = re.findall(r"^\s*server (\S+)", _upstream_block(MULTI.read_text()), re.M)
    assert len(servers) >= 2
    assert all(not s.startswith("127.0.0.1") for s in servers)


def test_nginx_multi_keeps_the_server_blocks_of_nginx_conf():
    """Everything but the upstream and the retry rule is nginx.conf's, line for line."""
    single = _without_comments(SINGLE.read_text().replace(_upstream_block(SINGLE.read_text()), ""))
    multi_text = MULTI.read_text().replace(_upstream_block(MULTI.read_text()), "")
    multi = [
        line for line in _without_comments(multi_text) if not line.startswith("proxy_next_upstream")
    ]
    assert multi == single


@needs_nginx
@pytest.mark.parametrize("conf", [SINGLE, MULTI], ids=["nginx.conf", "nginx-multi.conf"])
def test_the_nginx_config_is_valid_without_warnings(conf, tmp_path):
    path, _ = for_this_machine(conf.read_text(), tmp_path)
    wrapper = _nginx_wrapper(tmp_path, path)
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(wrapper)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[warn]" not in output and "[emerg]" not in output, output


@needs_nginx
def test_nginx_logs_the_request_id_it_passes_on_as_json(tmp_path):
    instance = start_instance("one")
    path, port = for_this_machine(
        SINGLE.read_text().replace(
            "server 127.0.0.1:5000;", f"server 127.0.0.1:{instance.server_port};"
        ),
        tmp_path,
    )
    nginx = Nginx(path, port, tmp_path)
    try:
        given = f"client-{uuid.uuid4().hex[:8]}"
        status, answer = nginx.get("/api/products?q=secret", {"X-Request-ID": given})
        assert status == 200 and answer["request_id"] == given
        status, answer = nginx.get("/health")
        made = answer["request_id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
    finally:
        nginx.stop()
        instance.shutdown()
    lines = [json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines()]
    assert [(e["request_id"], e["path"], e["status"]) for e in lines] == [
        (given, "/api/products", 200),
        (made, "/health", 200),
    ]
    assert "secret" not in (tmp_path / "access.log").read_text()  # no query strings


@needs_nginx
def test_nginx_multi_spreads_requests_and_passes_over_an_instance_that_is_down(tmp_path):
    instances = [start_instance("a"), start_instance("b")]
    down_port = free_port()  # a third instance that is not running
    path, port = for_this_machine(
        MULTI.read_text(), tmp_path, [i.server_port for i in instances] + [down_port]
    )
    nginx = Nginx(path, port, tmp_path)
    try:
        answers = [nginx.get(f"/api/products?n={n}") for n in range(12)]
    finally:
        nginx.stop()
        for instance in instances:
            instance.shutdown()
    assert [status for status, _ in answers] == [200] * 12
    assert {answer["instance"] for _, answer in answers} == {"a", "b"}
