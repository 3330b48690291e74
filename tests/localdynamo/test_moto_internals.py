"""`moto_internals.check()` accepts the installed moto and names what does not match."""

from __future__ import annotations

import pytest

from cloudstore.localdynamo import moto_internals


def test_check_accepts_the_installed_moto() -> None:
    moto_internals.check()


def test_check_names_a_changed_transaction_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_internals, "TRANSACT_SOURCE_SHA256", "0" * 64)
    with pytest.raises(moto_internals.MotoMismatch, match="transact_write_items changed"):
        moto_internals.check()


def test_check_names_a_changed_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_internals, "_SCAN_PARAMETERS", ("self", "renamed"))
    with pytest.raises(moto_internals.MotoMismatch, match=r"Table\.scan"):
        moto_internals.check()
