"""The PostgreSQL connection string built from RDS_*: psycopg's conninfo helpers quote every
value, so a Unix-socket directory, any password and the TLS settings reach libpq intact."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from cloudstore.settings import Settings, SettingsError


def test_rds_host_may_be_a_unix_socket_directory_and_connects(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        directory = conn.execute("SHOW unix_socket_directories").fetchone()[0].split(",")[0]
        port = conn.execute("SHOW port").fetchone()[0]
        database, user = conn.execute("SELECT current_database(), current_user").fetchone()
    settings = Settings(
        rds_host=directory.strip(),
        rds_port=int(port),
        rds_database=database,
        rds_username=user,
        rds_sslmode="disable",  # a socket has no TLS
    )
    with psycopg.connect(settings.postgres_conninfo()) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == database
        assert conn.info.host.startswith("/")


def test_every_character_of_a_password_survives():
    password = "p@ss w'ord\\/:?#=%"
    settings = Settings(rds_host="db.example.internal", rds_password=password)
    assert conninfo_to_dict(settings.postgres_conninfo())["password"] == password


def test_sslmode_defaults_to_prefer_without_a_root_certificate():
    parts = conninfo_to_dict(Settings(rds_host="db.example.internal").postgres_conninfo())
    assert parts["sslmode"] == "prefer"
    assert "sslrootcert" not in parts


def test_verify_full_with_the_rds_bundle_reaches_libpq(tmp_path):
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = Settings.from_env(
        {
            "RDS_HOST": "db.example.internal",
            "RDS_SSLMODE": "verify-full",
            "RDS_SSLROOTCERT": str(bundle),
            "JWT_SECRET_KEY": "k",
        },
        env_file=None,
    ).validate()
    parts = conninfo_to_dict(settings.postgres_conninfo())
    assert (parts["sslmode"], parts["sslrootcert"]) == ("verify-full", str(bundle))


def test_sslmode_require_refuses_a_server_without_tls(postgres_url, tmp_path):
    """libpq really receives the mode: a server without TLS is refused, not used in clear."""
    with psycopg.connect(postgres_url) as conn:
        if conn.execute("SHOW ssl").fetchone()[0] == "on":
            pytest.skip("this PostgreSQL has TLS on")
        host, port = conn.info.host, conn.info.port
        database, user = conn.execute("SELECT current_database(), current_user").fetchone()
    if host.startswith("/"):
        host = "127.0.0.1"
    settings = Settings(
        rds_host=host,
        rds_port=port,
        rds_database=database,
        rds_username=user,
        rds_sslmode="require",
    )
    with pytest.raises(psycopg.OperationalError, match="(?i)ssl"):
        psycopg.connect(settings.postgres_conninfo(), connect_timeout=5).close()


def test_an_unknown_sslmode_is_one_line():
    with pytest.raises(SettingsError, match="RDS_SSLMODE"):
        Settings.from_env({"RDS_SSLMODE": "verify"}, env_file=None).validate()


def test_a_missing_root_certificate_file_is_one_line(tmp_path):
    with pytest.raises(SettingsError, match="RDS_SSLROOTCERT"):
        Settings(rds_sslrootcert=str(tmp_path / "absent.pem")).validate()
