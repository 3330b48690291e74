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
SECURE_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
SECURE_HEADERS_HTTPS = (*SECURE_HEADERS, ("Strict-Transport-Security", HSTS))


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
        # One pass over the names already set, then appends: werkzeug's `setdefault` scans
        # (and lower-cases) every header for each call, on every response.
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers
        wanted = SECURE_HEADERS_HTTPS if request.scheme == "https" else SECURE_HEADERS
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response
