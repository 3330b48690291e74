"""Rate limits are settings in "N/period" form; a bad value is a clear SettingsError."""

from __future__ import annotations

import pytest

from cloudstore.settings import RateLimit, Settings, SettingsError, parse_rate_limit


def test_a_limit_per_minute_is_parsed():
    assert parse_rate_limit("LOGIN_LIMIT", "5/minute") == RateLimit(5, 60)


def test_a_limit_per_several_periods_is_parsed():
    assert parse_rate_limit("REGISTER_LIMIT", "100/15 minutes") == RateLimit(100, 900)


def test_a_plural_period_is_accepted():
    assert parse_rate_limit("LOGIN_LIMIT", "10 / hours") == RateLimit(10, 3600)


@pytest.mark.parametrize("raw", ["5", "five/minute", "5/fortnight", "0/minute", "-1/hour", ""])
def test_a_malformed_limit_is_refused_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="LOGIN_LIMIT"):
        parse_rate_limit("LOGIN_LIMIT", raw)


def test_the_defaults_are_ten_an_hour_per_account_and_per_client():
    settings = Settings.from_env({}, env_file=None)
    assert (settings.login_limit, settings.login_client_limit, settings.register_limit) == (
        RateLimit(10, 3600),
        RateLimit(10, 3600),
        RateLimit(10, 3600),
    )


def test_login_ip_limit_sets_the_per_client_login_limit_apart():
    settings = Settings.from_env({"LOGIN_IP_LIMIT": "50/hour"}, env_file=None)
    assert (settings.login_limit, settings.login_client_limit) == (
        RateLimit(10, 3600),
        RateLimit(50, 3600),
    )


def test_limits_are_read_from_the_environment():
    settings = Settings.from_env({"LOGIN_LIMIT": "1000/minute"}, env_file=None)
    assert settings.login_limit == RateLimit(1000, 60)


def test_a_bad_limit_in_the_environment_is_a_settings_error():
    with pytest.raises(SettingsError, match="REGISTER_LIMIT"):
        Settings.from_env({"REGISTER_LIMIT": "lots"}, env_file=None)


def test_an_override_may_give_a_limit_as_text():
    assert Settings(register_limit="3/hour").register_limit == RateLimit(3, 3600)


def test_the_badge_and_the_admin_threshold_are_two_settings():
    settings = Settings.from_env(
        {"LOW_STOCK_BADGE": "3", "LOW_STOCK_THRESHOLD": "7"}, env_file=None
    )
    assert (settings.low_stock_badge, settings.low_stock_threshold) == (3, 7)
