"""Fixtures for a test module whose tests share one app (each test makes its own data).

A module opts in by importing them: `from tests.helpers.shared_app import app, settings`
(and `admin` for admin headers). `client` and `backends` from conftest then use that app."""

from __future__ import annotations

import pytest

from tests.helpers import admin_headers


@pytest.fixture(scope="module")
def settings(module_settings):
    return module_settings


@pytest.fixture(scope="module")
def app(module_app):
    return module_app


@pytest.fixture(scope="module")
async def admin(app) -> dict:
    return await admin_headers(app)
