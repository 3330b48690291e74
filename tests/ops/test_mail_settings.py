"""MAIL_BACKEND, MAIL_FROM, SMTP_URL, RESET_LIMIT and RESET_EMAIL_LIMIT as the environment
gives them, and what `validate` refuses."""

from __future__ import annotations

import pytest

from cloudstore.settings import RateLimit, Settings, SettingsError, parse_smtp_url
from cloudstore.stores.mail import OutboxTransport, SesTransport, SmtpTransport, transport_for

SECRET = {"JWT_SECRET_KEY": "x" * 32}


def env(**values: str) -> Settings:
    return Settings.from_env({**SECRET, **values}, env_file=None)


def test_the_outbox_in_the_data_dir_is_the_zero_config_default(tmp_path):
    settings = env(CLOUDSTORE_DATA_DIR=str(tmp_path)).validate()
    assert settings.mail_backend == "outbox"
    transport = transport_for(settings)
    assert isinstance(transport, OutboxTransport) and transport.directory == tmp_path / "outbox"


def test_reset_limits_default_to_ten_per_client_and_three_per_account_an_hour():
    settings = env()
    assert (settings.reset_limit, settings.reset_email_limit) == (
        RateLimit(10, 3600),
        RateLimit(3, 3600),
    )


def test_reset_limits_are_read_from_the_environment():
    settings = env(RESET_LIMIT="5/minute", RESET_EMAIL_LIMIT="1/15 minutes")
    assert (settings.reset_limit, settings.reset_email_limit) == (
        RateLimit(5, 60),
        RateLimit(1, 900),
    )


def test_a_bad_reset_limit_names_its_variable():
    with pytest.raises(SettingsError, match="RESET_EMAIL_LIMIT"):
        env(RESET_EMAIL_LIMIT="lots")


def test_an_unknown_mail_backend_is_refused():
    with pytest.raises(SettingsError, match="MAIL_BACKEND"):
        env(MAIL_BACKEND="pigeon").validate()


PRODUCTION = {"PUBLIC_URL": "https://shop.example.com", "MAIL_FROM": "Shop <shop@example.com>"}


def test_smtp_and_ses_need_public_url_and_mail_from():
    for backend in ("ses", "smtp"):
        with pytest.raises(SettingsError, match="PUBLIC_URL"):
            env(MAIL_BACKEND=backend, MAIL_FROM="Shop <shop@example.com>").validate()
        with pytest.raises(SettingsError, match="MAIL_FROM"):
            env(MAIL_BACKEND=backend, PUBLIC_URL="https://shop.example.com").validate()


def test_mail_backend_ses_uses_ses():
    settings = env(MAIL_BACKEND="SES", **PRODUCTION).validate()
    assert isinstance(transport_for(settings), SesTransport)


def test_mail_backend_smtp_needs_an_smtp_url():
    with pytest.raises(SettingsError, match="SMTP_URL"):
        env(MAIL_BACKEND="smtp", **PRODUCTION).validate()
    settings = env(MAIL_BACKEND="smtp", SMTP_URL="smtp://mail.example.com", **PRODUCTION)
    assert isinstance(transport_for(settings.validate()), SmtpTransport)


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "user", "password"),
    [
        ("smtp://mail.example.com", "mail.example.com", 587, False, None, None),
        ("smtps://u:p@mail.example.com", "mail.example.com", 465, True, "u", "p"),
        ("smtp://a%40b.c:p%3Aw@127.0.0.1:2525", "127.0.0.1", 2525, False, "a@b.c", "p:w"),
    ],
)
def test_smtp_url_is_taken_apart(url, host, port, tls, user, password):
    server = parse_smtp_url(url)
    assert (server.host, server.port, server.use_tls, server.username, server.password) == (
        host,
        port,
        tls,
        user,
        password,
    )


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_malformed_smtp_url_is_refused(url):
    with pytest.raises(SettingsError, match="SMTP_URL"):
        parse_smtp_url(url)


@pytest.mark.parametrize(
    "sender", ["not an address", "a@x.com, b@y.com", "Shop\r\nBcc: x@y.z <shop@example.com>"]
)
def test_mail_from_must_be_one_address_on_one_line(sender):
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        Settings(jwt_secret_key="x" * 32, mail_from=sender).validate()
