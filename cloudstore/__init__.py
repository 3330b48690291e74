"""Cloud Store: an HTMX storefront and JSON API on Quart, PostgreSQL and DynamoDB."""

from __future__ import annotations

from pathlib import Path

from quart import Quart
from quart_schema import QuartSchema

from cloudstore.backends import Backends
from cloudstore.observability import RequestLogMiddleware, configure_logging
from cloudstore.secrets_store import local_jwt_secret
from cloudstore.settings import Settings
from cloudstore.web.api.openapi import ShopOpenAPI
from cloudstore.web.errors import register_error_handlers
from cloudstore.web.html.limits import install_template_limits
from cloudstore.web.jsonio import ShopJSONProvider
from cloudstore.web.proxy import ForwardedHeadersMiddleware
from cloudstore.web.security import install_security_headers
from cloudstore.web.static_files import init_static_files
from cloudstore.web.uploads import request_class

ROOT = Path(__file__).resolve().parent.parent
__version__ = "0.1.0"


def create_app(settings: Settings | None = None) -> Quart:
    settings = (settings or Settings.from_env()).validate()
    if not settings.jwt_secret_key:
        settings = settings.with_overrides(jwt_secret_key=local_jwt_secret(settings.data_dir))
    configure_logging(settings.log_level)

    app = Quart(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["QUART_SCHEMA_CONVERSION_PREFERENCE"] = "pydantic"
    QuartSchema(
        app,
        openapi_path="/api/openapi.json",
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": "Cloud Store API", "version": __version__},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
        openapi_provider_class=ShopOpenAPI,
    )
    app.json = ShopJSONProvider(app)  # after QuartSchema, which installs its own provider
    app.request_class = request_class(settings)

    backends = Backends.from_settings(settings)
    app.extensions["cloudstore"] = backends

    from cloudstore.shop import order_expiry

    @app.before_serving
    async def open_backends() -> None:
        await backends.open()
        app.extensions["cloudstore_sweeper"] = order_expiry.start_sweeper(backends)

    @app.after_serving
    async def close_backends() -> None:
        await order_expiry.stop_sweeper(app.extensions.pop("cloudstore_sweeper", None))
        await backends.close()

    from cloudstore.web import admin, api, health, media, pages
    from cloudstore.web.html.install import install_html

    app.register_blueprint(health.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(api.blueprint())
    app.register_blueprint(pages.blueprint())
    app.register_blueprint(admin.blueprint())
    install_html(app, saved_cart=pages.saved_cart)
    install_template_limits(app, settings)
    register_error_handlers(app)
    install_security_headers(app, settings)
    init_static_files(app, short_max_age=settings.static_max_age)
    # Outermost first: the client address is settled before the request line is logged.
    # (Wrapping asgi_app is how Quart takes middleware; its types call it a method.)
    app.asgi_app = ForwardedHeadersMiddleware(  # type: ignore[method-assign]
        RequestLogMiddleware(app.asgi_app), trusted=settings.forwarded_allow_ips
    )
    return app
