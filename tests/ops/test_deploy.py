"""The files in deploy/ as an operator installs them: systemd accepts the unit without a
warning, nginx accepts the server block without a warning, hypercorn reads its TOML, and the
env example names every setting the app reads."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypercorn.config import Config

from cloudstore.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Where the operator's hypercorn listens; nginx must proxy to the same address.
HYPERCORN_BIND = Config.from_toml(DEPLOY / "hypercorn.toml").bind[0]
UNIT = DEPLOY / "cloudstore.service"
SYSTEM_UNITS = next(
    (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()),
    Path("/usr/lib/systemd/system"),
)


def tool(name: str) -> str | None:
    """A program on PATH, or in /usr/sbin (not on a non-root user's PATH on Debian)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


NGINX = tool("nginx")
# deploy/nginx.conf's access log; tests running nginx write it somewhere of their own.
NGINX_ACCESS_LOG = "access_log /var/log/nginx/cloudstore.access.log cloudstore_json;"
SYSTEMD_ANALYZE = tool("systemd-analyze")


def _unit_values(key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in UNIT.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


@pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze not installed (CI installs it: apt-get install -y systemd)",
)
def test_systemd_unit_verifies_without_warnings(tmp_path):
    """`systemd-analyze verify` checks that ExecStart exists; this machine has no
    /opt/cloudstore, so verify runs against a temporary root holding the unit, the system
    units it depends on (a copy, so no symlink leaves the root) and a stand-in hypercorn."""
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system/cloudstore.service")
    (root / SYSTEM_UNITS.relative_to("/")).parent.mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / SYSTEM_UNITS.relative_to("/"), symlinks=True)
    executable = _unit_values("ExecStart")[0].split()[0]
    stand_in = root / executable.lstrip("/")
    stand_in.parent.mkdir(parents=True)
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)

    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "verify",
            "--man=no",
            "--generators=no",
            f"--root={root}",
            "cloudstore.service",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == "", output


def test_systemd_unit_runs_hypercorn_unprivileged_and_stops_gracefully():
    assert _unit_values("User") == ["cloudstore"]
    assert _unit_values("EnvironmentFile") == ["/etc/cloudstore/cloudstore.env"]
    assert _unit_values("ExecStart") == [
        "/opt/cloudstore/.venv/bin/hypercorn --config /opt/cloudstore/deploy/hypercorn.toml "
        "cloudstore.asgi:app"
    ]
    assert _unit_values("Restart") == ["on-failure"]
    # hypercorn's workers do not handle SIGTERM: only the main process may receive it.
    assert _unit_values("KillMode") == ["mixed"]
    assert _unit_values("KillSignal") == ["SIGTERM"]
    graceful = Config.from_toml(DEPLOY / "hypercorn.toml").graceful_timeout
    assert int(_unit_values("TimeoutStopSec")[0]) > graceful
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ReadWritePaths": "/var/lib/cloudstore",
    }.items():
        assert _unit_values(key) == [value], key


def _nginx_wrapper(tmp_path: Path, server_conf: Path) -> Path:
    """A minimal main config that includes the server block the way conf.d/ is included."""
    (tmp_path / "logs").mkdir(exist_ok=True)
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/logs/error.log warn;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    access_log off;\n"
        f"    client_body_temp_path {tmp_path}/client_body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    include {server_conf};\n"
        "}\n"
    )
    return wrapper


@pytest.mark.skipif(
    NGINX is None, reason="nginx not installed (CI installs it: apt-get install -y nginx)"
)
def test_nginx_config_is_valid_without_warnings(tmp_path):
    # Only the access log moves (nginx -t opens it; /var/log/nginx may not be writable here).
    conf = tmp_path / "cloudstore.conf"
    text = (DEPLOY / "nginx.conf").read_text()
    conf.write_text(text.replace(NGINX_ACCESS_LOG, "access_log off;"))
    wrapper = _nginx_wrapper(tmp_path, conf)
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(wrapper)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[warn]" not in output and "[emerg]" not in output, output
    assert "test is successful" in output


def test_nginx_config_proxies_with_forwarded_headers_and_caches_only_versioned_static():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert f"server {HYPERCORN_BIND};" in conf  # upstream is where hypercorn listens
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Host"):
        assert f"proxy_set_header {header} " in conf
    assert "client_max_body_size 1m;" in conf
    assert "gzip on;" in conf
    assert "alias /opt/cloudstore/static/;" in conf
    # Year-long caching is chosen by $arg_v: an unversioned URL gets a short max-age.
    assert re.search(
        r'map \$arg_v \$cloudstore_static_cache \{\s*""\s+"public, max-age=300";', conf
    )
    assert 'default "public, max-age=31536000, immutable";' in conf


def test_hypercorn_toml_binds_locally_with_two_workers_and_no_second_access_log():
    config = Config.from_toml(DEPLOY / "hypercorn.toml")
    assert len(config.bind) == 1 and config.bind[0].startswith("127.0.0.1:")  # nginx only
    assert config.workers == 2
    assert config.worker_class == "uvloop"
    assert config.graceful_timeout >= 10
    assert not config.accesslog  # the app writes the one JSON line per request
    assert config.logconfig_dict["formatters"]["json"]["()"] == (
        "cloudstore.observability.JsonFormatter"
    )


def test_env_example_names_every_setting_the_app_reads():
    source = (ROOT / "cloudstore" / "settings.py").read_text()
    read = set(re.findall(r'(?:get|number|rate)\("([A-Z][A-Z0-9_]+)"', source))
    example = (DEPLOY / "cloudstore.env.example").read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert read, "no settings found in settings.py"
    assert read - named == set(), f"missing from cloudstore.env.example: {read - named}"
    # The uncommented values parse as valid settings.
    values = dict(
        line.split("=", 1)
        for line in example.splitlines()
        if line and not line.startswith("#") and "=" in line
    )
    # The RDS CA bundle is a file the operator downloads; here, any file stands in for it.
    assert values["RDS_SSLROOTCERT"] == "/etc/cloudstore/rds-global-bundle.pem"
    values["RDS_SSLROOTCERT"] = str(DEPLOY / "cloudstore.env.example")
    Settings.from_env(values, env_file=None).validate()


def test_procfile_runs_hypercorn_with_the_deploy_config():
    lines = (ROOT / "Procfile").read_text().splitlines()
    web = [line for line in lines if line.startswith("web:")]
    assert len(web) == 1
    assert "hypercorn --config deploy/hypercorn.toml" in web[0]
    assert web[0].rstrip().endswith("cloudstore.asgi:app")
