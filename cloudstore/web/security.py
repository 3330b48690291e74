"""Response headers every page and API answer carries, and CORS for listed origins only."""

from __future__ import annotations

from quart import Quart, request
from quart_cors import cors

from cloudstore.settings import Settings

# No 'unsafe-inline' anywhere: htmx is configured through a <meta> tag and all script and
# style lives in static files. Pages only show images from our own /static/ paths.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"


def install_security_headers(app: Quart, settings: Settings) -> None:
    if settings.cors_origins:
        cors(
            app,
            allow_origin=list(settings.cors_origins),
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_credentials=False,
            max_age=600,
        )

    @app.after_request
    async def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
