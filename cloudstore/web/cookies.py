"""Our cookies' names: with the `__Host-` prefix when the request came over HTTPS.

A `__Host-` cookie is only accepted by a browser when it is Secure, has Path=/ and no Domain,
so another host (a sibling subdomain, a network attacker on plain HTTP) cannot plant or
overwrite it. Over HTTPS only the prefixed name is read: a plain `cs_session` planted by
someone else is ignored. `request.is_secure` follows X-Forwarded-Proto from the trusted proxy
(web/proxy.py)."""

from __future__ import annotations

from quart import request

HOST_PREFIX = "__Host-"
SESSION_COOKIE = "cs_session"
CSRF_COOKIE = "cs_csrf"
NOTICE_COOKIE = "cs_notice"
CART_COOKIE = "cs_cart"  # an anonymous no-JS cart (web/pages/cookie_cart.py)


def cookie_name(base: str) -> str:
    """The name `base` has on this request: `__Host-<base>` over HTTPS."""
    return HOST_PREFIX + base if request.is_secure else base


def read_cookie(base: str) -> str | None:
    return request.cookies.get(cookie_name(base)) or None
