"""Headers on every response, and CORS only for the origins in CORS_ORIGINS."""

from __future__ import annotations

import pytest

from cloudstore import create_app


@pytest.mark.parametrize("path", ["/health", "/api/products", "/api/nope"])
async def test_every_response_carries_a_strict_csp_and_nosniff(client, path):
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


async def test_hsts_only_under_https(client):
    plain = await client.get("/health")
    secure = await client.get("/health", scheme="https")
    assert "Strict-Transport-Security" not in plain.headers
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_no_cors_headers_for_other_origins_by_default(client):
    response = await client.get("/api/products", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_listed_origin_gets_cors_and_others_do_not(settings):
    app = create_app(settings.with_overrides(cors_origins=("https://partner.example",)))
    async with app.test_app():
        client = app.test_client()
        allowed = await client.get("/api/products", headers={"Origin": "https://partner.example"})
        other = await client.get("/api/products", headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_a_header_a_view_set_itself_is_kept_and_not_doubled(app):
    @app.get("/test-own-frame-policy")
    async def own_frame_policy():
        return "x", 200, {"x-frame-options": "SAMEORIGIN"}

    response = await app.test_client().get("/test-own-frame-policy")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
