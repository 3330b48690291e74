"""The JSON API under /api, with the spec's envelope."""

from __future__ import annotations

from quart import Blueprint

from cloudstore.web.api import admin, auth, cart, orders, payments, products, users


def blueprint() -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api")
    for module in (auth, products, admin, cart, orders, payments, users):
        api.register_blueprint(module.bp)
    return api
