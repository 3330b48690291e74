"""Response headers every page and API answer carries, and CORS for listed origins only.

Besides the browser protections below, every answer passes two rules here, in one place:
- **private answers are never stored by a cache**: every page, error page and redirect, and
  every `/api` answer except the public catalog reads, is `Cache-Control: no-store`; the API
  ones also `Vary: Authorization, Cookie` (they depend on either);
- **redirects stay on the operator's host**: a `Location` or `HX-Redirect` that names any
  other origin than `PUBLIC_URL`'s (werkzeug builds absolute URLs from the request's `Host`
  header, e.g. for `//` in a path) is made relative.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from quart import Quart, request
from quart_cors import cors

from cloudstore.settings import Settings


# No 'unsafe-inline' anywhere: htmx is configured through a <meta> tag and all script and
# style lives in static files. Pages only show images from our own /static/ and /media/
# paths, and from MEDIA_BASE_URL's origin when product images come from a CDN.
def content_security_policy(media_origin: str | None = None) -> str:
    images = f"img-src 'self' data: {media_origin}" if media_origin else "img-src 'self' data:"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            images,
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
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
# The same for every visitor, signed in or not: proxies may keep them.
PUBLIC_ENDPOINTS = frozenset(
    {"api.products.list_products", "api.products.get_product", "openapi", "static", "media.file"}
)
NO_STORE = "no-store"
PRIVATE_VARY = ("Authorization", "Cookie")
REDIRECT_HEADERS = ("Location", "HX-Redirect")


def on_our_host(location: str, public_origin: str | None) -> str:
    """`location` if it is relative or on PUBLIC_URL's origin, else its path made relative
    (never `//host` or `/\\host`, which browsers read as another host)."""
    parts = urlsplit(location.strip())
    if not parts.scheme and not parts.netloc and not location.lstrip().startswith(("//", "/\\")):
        return location
    if public_origin and f"{parts.scheme}://{parts.netloc}".lower() == public_origin.lower():
        return location
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def _add_vary(headers, names: tuple[str, ...]) -> None:
    present = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    lowered = {v.lower() for v in present}
    headers["Vary"] = ", ".join([*present, *(n for n in names if n.lower() not in lowered)])


def keep_private(response) -> None:
    """No cache may keep an answer that carries a visitor's data or a token."""
    if request.path.startswith("/health"):
        return
    # A public read's answer, not its error page (which shows the visitor's header).
    if request.endpoint in PUBLIC_ENDPOINTS and response.status_code < 400:
        return
    response.headers["Cache-Control"] = NO_STORE
    if request.path.startswith("/api"):
        _add_vary(response.headers, PRIVATE_VARY)


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def install_security_headers(app: Quart, settings: Settings) -> None:
    public_origin = settings.public_origin
    policy = content_security_policy(_origin(settings.media_base_url))
    common = tuple(
        (name, policy if name == "Content-Security-Policy" else value)
        for name, value in SECURE_HEADERS
    )
    https = (*common, ("Strict-Transport-Security", HSTS))
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
        wanted = https if request.scheme == "https" else common
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        keep_private(response)
        for name in REDIRECT_HEADERS:
            if name.lower() in present:
                headers[name] = on_our_host(headers[name], public_origin)
        return response
