"""Settings from the environment and `.env`, their validation, and the zero-config JWT secret."""

from __future__ import annotations

import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from cloudstore import create_app
from cloudstore.embedded import Runtime, write_runtime
from cloudstore.secrets_store import SECRET_FILE, local_jwt_secret
from cloudstore.settings import DEFAULT_CATEGORIES, Settings, SettingsError

# create_app needs some PostgreSQL address; nothing connects until the app serves.
UNUSED_DATABASE = "postgresql://nobody@127.0.0.1:1/none"


def from_env(environ: dict[str, str], env_file: Path | None = None) -> Settings:
    return Settings.from_env(environ, env_file=env_file)


def served(data_dir: Path) -> Path:
    """A data dir whose own `cloudstore serve` started UNUSED_DATABASE (as its workers see)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    write_runtime(
        data_dir, Runtime(pid=os.getpid(), database_url=UNUSED_DATABASE, dynamodb_endpoint=None)
    )
    return data_dir


def test_defaults_without_any_variable():
    settings = from_env({})
    assert settings.tax_rate == Decimal("0.11")
    assert settings.currency == "IDR"
    assert settings.jwt_expiry_hours == 24
    assert (settings.products_table, settings.orders_table, settings.cart_table) == (
        "Products",
        "Orders",
        "Cart",
    )
    assert settings.data_dir == Path(".cloudstore")
    assert settings.categories == DEFAULT_CATEGORIES
    assert settings.jwt_secret_key is None


def test_defaults_mean_embedded_backends():
    settings = from_env({})
    assert settings.embedded_postgres and settings.embedded_dynamodb
    assert not settings.uses_real_backends
    assert settings.validate() is settings


def test_the_spec_variable_names_are_read():
    settings = from_env(
        {
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret-key",
            "AWS_SESSION_TOKEN": "session-token",
            "AWS_REGION": "ap-southeast-3",
            "RDS_HOST": "db.example.internal",
            "RDS_PORT": "6543",
            "RDS_DATABASE": "shop",
            "RDS_USERNAME": "shopper",
            "RDS_PASSWORD": "p@ss word",
            "JWT_SECRET_KEY": "jwt-secret",
            "JWT_EXPIRY_HOURS": "12",
            "DYNAMODB_ENDPOINT": "http://localhost:18999",
            "DYNAMODB_PRODUCTS_TABLE": "P",
            "DYNAMODB_ORDERS_TABLE": "O",
            "DYNAMODB_CART_TABLE": "C",
            "TAX_RATE": "0.1",
            "CURRENCY": "USD",
            "CLOUDSTORE_DATA_DIR": "/var/lib/cloudstore",
        }
    )
    assert settings.aws_access_key_id == "AKIAEXAMPLE"
    assert settings.aws_secret_access_key == "secret-key"
    assert settings.aws_session_token == "session-token"
    assert settings.aws_region == "ap-southeast-3"
    assert (settings.rds_host, settings.rds_port) == ("db.example.internal", 6543)
    assert (settings.rds_database, settings.rds_username) == ("shop", "shopper")
    assert settings.jwt_secret_key == "jwt-secret" and settings.jwt_expiry_hours == 12
    assert settings.dynamodb_endpoint == "http://localhost:18999"
    assert (settings.products_table, settings.orders_table, settings.cart_table) == ("P", "O", "C")
    assert settings.tax_rate == Decimal("0.1") and settings.currency == "USD"
    assert settings.data_dir == Path("/var/lib/cloudstore")


def test_rds_settings_make_a_quoted_connection_string():
    settings = from_env(
        {
            "RDS_HOST": "db.example.internal",
            "RDS_PORT": "6543",
            "RDS_DATABASE": "shop",
            "RDS_USERNAME": "shopper",
            "RDS_PASSWORD": "p@ss word",
        }
    )
    assert conninfo_to_dict(settings.postgres_conninfo()) == {
        "host": "db.example.internal",
        "port": "6543",
        "dbname": "shop",
        "user": "shopper",
        "password": "p@ss word",
        "sslmode": "prefer",
    }


def test_blank_variables_count_as_unset():
    settings = from_env({"TAX_RATE": "  ", "CURRENCY": "", "RDS_HOST": " "})
    assert settings.tax_rate == Decimal("0.11") and settings.currency == "IDR"
    assert settings.rds_host is None


def test_dotenv_file_is_read(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TAX_RATE=0.12\nCURRENCY=USD\nDYNAMODB_PRODUCTS_TABLE=FromFile\n")
    settings = from_env({}, env_file=env_file)
    assert settings.tax_rate == Decimal("0.12")
    assert settings.currency == "USD"
    assert settings.products_table == "FromFile"


def test_real_environment_wins_over_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TAX_RATE=0.12\nCURRENCY=USD\n")
    settings = from_env({"TAX_RATE": "0.05"}, env_file=env_file)
    assert settings.tax_rate == Decimal("0.05")
    assert settings.currency == "USD"


def test_missing_dotenv_file_is_fine(tmp_path):
    assert from_env({}, env_file=tmp_path / "absent.env").currency == "IDR"


def test_rds_host_without_jwt_secret_refuses_to_start_with_one_line():
    settings = from_env({"RDS_HOST": "db.example.internal"})
    with pytest.raises(SettingsError) as caught:
        settings.validate()
    message = str(caught.value)
    assert "JWT_SECRET_KEY" in message and "\n" not in message


def test_real_aws_without_jwt_secret_refuses_to_start():
    settings = from_env({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s"})
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY"):
        settings.validate()


def test_rds_host_with_jwt_secret_is_valid():
    settings = from_env({"RDS_HOST": "db.example.internal", "JWT_SECRET_KEY": "k"})
    assert settings.validate() is settings


def test_create_app_refuses_real_backends_without_jwt_secret():
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY"):
        create_app(from_env({"RDS_HOST": "db.example.internal"}))


def test_non_numeric_tax_rate_is_a_settings_error():
    with pytest.raises(SettingsError) as caught:
        from_env({"TAX_RATE": "eleven percent"})
    assert "TAX_RATE" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "1"])
def test_tax_rate_outside_0_to_1_is_a_settings_error(rate):
    with pytest.raises(SettingsError, match="TAX_RATE"):
        from_env({"TAX_RATE": rate}).validate()


def test_non_numeric_port_is_a_settings_error():
    with pytest.raises(SettingsError, match="RDS_PORT"):
        from_env({"RDS_PORT": "fivefourthreetwo"})


def test_zero_config_creates_a_private_jwt_secret_in_the_data_dir(tmp_path):
    data_dir = served(tmp_path / "data")
    app = create_app(Settings(database_url=UNUSED_DATABASE, data_dir=data_dir))
    secret_file = data_dir / SECRET_FILE
    assert secret_file.is_file()
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert app.extensions["cloudstore"].tokens.secret == secret


def test_zero_config_reuses_the_kept_jwt_secret(tmp_path):
    data_dir = served(tmp_path / "data")
    first = create_app(Settings(database_url=UNUSED_DATABASE, data_dir=data_dir))
    second = create_app(Settings(database_url=UNUSED_DATABASE, data_dir=data_dir))
    assert first.extensions["cloudstore"].tokens.secret == (
        second.extensions["cloudstore"].tokens.secret
    )
    assert local_jwt_secret(data_dir) == first.extensions["cloudstore"].tokens.secret


def test_each_data_dir_gets_its_own_secret(tmp_path):
    assert local_jwt_secret(tmp_path / "one") != local_jwt_secret(tmp_path / "two")


def test_a_configured_jwt_secret_writes_no_file(tmp_path):
    data_dir = tmp_path / "data"
    app = create_app(
        Settings(database_url=UNUSED_DATABASE, data_dir=data_dir, jwt_secret_key="configured")
    )
    assert app.extensions["cloudstore"].tokens.secret == "configured"
    assert not (data_dir / SECRET_FILE).exists()


def test_public_url_is_read_without_its_trailing_slash():
    settings = from_env({"PUBLIC_URL": "https://shop.example.com/"})
    assert settings.validate().public_url == "https://shop.example.com"
    assert settings.public_origin == "https://shop.example.com"
    assert settings.public_link("/orders/ORD-1") == "https://shop.example.com/orders/ORD-1"


@pytest.mark.parametrize(
    "url",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://",
        "https://a@shop.example.com",
        "https://shop.example.com/?x=1",
        "https://shop.example.com:99999",
    ],
)
def test_a_malformed_public_url_is_a_one_line_settings_error(url):
    with pytest.raises(SettingsError) as caught:
        from_env({"PUBLIC_URL": url}).validate()
    assert "PUBLIC_URL" in str(caught.value) and "\n" not in str(caught.value)
