"""The admin console under /admin: dashboard, products (with stock), orders (search, filters,
CSV export) and customers.

Admins only, checked once for every route here: an anonymous visitor is sent to the login
page (and back afterwards), a customer gets the site's 403 page. State-changing requests
carry the storefront's double-submit CSRF token (`web.html.csrf.check_csrf`). The pages call
the same use cases as the admin API (`shop.catalog`, `shop.orders`) and write the same audit
line (`shop.audit`, written by the shop functions) for every change.
"""

from __future__ import annotations

from quart import Blueprint, request

from cloudstore.domain.client_text import split_url
from cloudstore.domain.errors import ErrorCode, Forbidden
from cloudstore.web.admin import customers, dashboard, exports, orders, payments, products
from cloudstore.web.admin.common import ADMIN_ROOT
from cloudstore.web.html.csrf import SAFE_METHODS, check_csrf
from cloudstore.web.html.rendering import template_module
from cloudstore.web.html.responses import go, login_url
from cloudstore.web.session import current_user


def login_next() -> str:
    """Where to come back after logging in: this page, or (after a POST) the admin page the
    form was on."""
    if request.method in SAFE_METHODS:
        return request.full_path.rstrip("?")
    current = split_url(request.headers.get("HX-Current-URL")).path
    return current if current.startswith(ADMIN_ROOT) else ADMIN_ROOT


def blueprint() -> Blueprint:
    admin = Blueprint("admin", __name__, url_prefix=ADMIN_ROOT)
    for module in (dashboard, products, orders, payments, exports, customers):
        admin.register_blueprint(module.bp)

    @admin.before_request
    async def admins_only():
        user = await current_user(required=False)
        if user is None:
            return go(login_url(login_next()))
        if not user.is_admin:
            raise Forbidden(
                "This part of the shop is for administrators only.", code=ErrorCode.FORBIDDEN
            )
        await check_csrf()
        return None

    @admin.record_once
    def install_macros(state) -> None:
        env = state.app.jinja_env
        env.globals.update(
            next_statuses=orders.next_statuses,
            ORDER_ACTION_LABELS=orders.ACTION_LABELS,
            filter_label=orders.filter_label,
        )

        @state.app.before_serving
        async def load_admin_macros() -> None:
            env.globals["admin_ui"] = template_module(state.app, "admin/_macros.html")

    return admin
