"""Believe X-Forwarded-For / X-Forwarded-Proto only when they come from our own proxy.

hypercorn's `ProxyFixMiddleware` trusts the headers from any peer, so a client talking to the
app port directly could claim any address or `https`. This middleware rewrites the ASGI scope's
`client` and `scheme` only when the direct peer is in `FORWARDED_ALLOW_IPS` (nginx on
127.0.0.1 by default). Quart's `request.remote_addr` and `request.is_secure` (the session
cookie's Secure flag) then tell the truth behind nginx, and cannot be spoofed around it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class TrustedProxies:
    """The set of peers whose forwarded headers are believed."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = [e.strip() for e in entries if e.strip()]
        self.everyone = "*" in entries
        self.networks: list[IPNetwork] = [
            ipaddress.ip_network(e, strict=False) for e in entries if e != "*"
        ]

    def __contains__(self, host: str | None) -> bool:
        if host is None:
            return False
        if self.everyone:
            return True
        address = _address(host)
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def _header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    values: list[str] = []
    for key, value in headers:
        if key.lower() == name:
            values.extend(part.strip() for part in value.decode("latin-1").split(","))
    return [v for v in values if v]


def client_from_forwarded_for(hops: list[str], trusted: TrustedProxies) -> str | None:
    """The client is the right-most hop that is not one of our proxies (nginx appends the
    address it saw; everything to its left was written by the client and may be forged)."""
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return None  # garbage in the chain: do not guess
        if str(address) not in trusted:
            return str(address)
    return str(_address(hops[0])) if hops else None


class ForwardedHeadersMiddleware:
    """ASGI middleware: apply X-Forwarded-For/-Proto from trusted peers only."""

    def __init__(self, app, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = (scope.get("client") or (None, None))[0]
            if peer in self.trusted:
                scope = dict(scope)
                headers = scope.get("headers") or []
                hops = _header_values(headers, b"x-forwarded-for")
                if hops:
                    client = client_from_forwarded_for(hops, self.trusted)
                    if client is not None:
                        scope["client"] = (client, 0)
                protos = _header_values(headers, b"x-forwarded-proto")
                if protos and protos[-1].lower() in ("http", "https"):
                    secure = protos[-1].lower() == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = "https" if secure else "http"
        await self.app(scope, receive, send)
