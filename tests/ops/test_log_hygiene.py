"""No password, token, secret or email reaches the logs, whatever the request did."""

from __future__ import annotations

import logging

from tests.helpers import ADDRESS, bearer, unique_email


async def test_logs_never_hold_passwords_tokens_secrets_or_emails(client, settings, seeded, caplog):
    email = unique_email("private")
    password = "very-secret-pass-42"
    with caplog.at_level(logging.DEBUG):
        registered = await client.post(
            "/api/auth/register", json={"name": "Dewi", "email": email, "password": password}
        )
        token = (await registered.get_json())["token"]
        await client.post("/api/auth/login", json={"email": email, "password": "wrong-" + password})
        await client.get(f"/api/products?q={password}", headers=bearer(token))
        await client.post(
            "/api/orders",
            json={
                "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
                "shipping_address": dict(ADDRESS),
            },
            headers=bearer(token),
        )
        await client.get("/api/orders", headers={"Cookie": f"cs_session={token}"})
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert caplog.records, "expected request log lines"
    for secret in (password, token, settings.jwt_secret_key, email, ADDRESS["phone"]):
        assert secret not in logged
