"""Payment settings are read from the environment and checked at startup."""

from __future__ import annotations

import pytest

from cloudstore.domain.payments import BankAccount
from cloudstore.settings import Settings, SettingsError

SECRET = {"JWT_SECRET_KEY": "x" * 32}


def from_env(**values) -> Settings:
    return Settings.from_env({**SECRET, **values}, env_file=None)


def test_bank_transfer_with_an_example_account_is_the_default():
    settings = from_env().validate()
    assert settings.payment_provider == "bank_transfer"
    assert settings.bank_accounts == (BankAccount("BCA", "1234567890", "PT Cloud Store"),)
    assert (settings.payment_window_seconds, settings.order_sweep_seconds) == (86400, 60)


def test_midtrans_defaults_to_the_sandbox():
    settings = from_env()
    assert settings.midtrans_snap_url == "https://app.sandbox.midtrans.com/snap/v1/transactions"
    assert settings.midtrans_api_url == "https://api.sandbox.midtrans.com"


def test_the_accounts_are_read_from_the_environment():
    settings = from_env(BANK_TRANSFER_ACCOUNTS="BCA 1 a.n. A; BNI 2 a.n. B").validate()
    assert [account.bank for account in settings.bank_accounts] == ["BCA", "BNI"]


def test_a_malformed_bank_account_stops_the_start():
    with pytest.raises(SettingsError, match="BANK_TRANSFER_ACCOUNTS"):
        from_env(BANK_TRANSFER_ACCOUNTS="BCA 1234567890").validate()


def test_midtrans_without_a_server_key_stops_the_start():
    with pytest.raises(SettingsError, match="MIDTRANS_SERVER_KEY"):
        from_env(PAYMENT_PROVIDER="midtrans", PUBLIC_URL="https://shop.example.com").validate()


def test_midtrans_without_a_public_url_stops_the_start():
    with pytest.raises(SettingsError, match="PUBLIC_URL"):
        from_env(PAYMENT_PROVIDER="midtrans", MIDTRANS_SERVER_KEY="SB-Mid-server-1").validate()


def test_midtrans_with_its_key_and_the_shops_address_starts():
    settings = from_env(
        PAYMENT_PROVIDER="midtrans",
        MIDTRANS_SERVER_KEY="SB-Mid-server-1",
        PUBLIC_URL="https://shop.example.com",
    ).validate()
    assert settings.payment_provider == "midtrans"


def test_an_unknown_provider_stops_the_start():
    with pytest.raises(SettingsError, match="PAYMENT_PROVIDER"):
        from_env(PAYMENT_PROVIDER="paypal").validate()


def test_a_window_under_a_minute_stops_the_start():
    with pytest.raises(SettingsError, match="PAYMENT_WINDOW_SECONDS"):
        from_env(PAYMENT_WINDOW_SECONDS="30").validate()


def test_a_negative_sweep_interval_stops_the_start():
    with pytest.raises(SettingsError, match="ORDER_SWEEP_SECONDS"):
        from_env(ORDER_SWEEP_SECONDS="-1").validate()
