"""The admin form and the API keep the same product rules (where they disagreed, the
stricter won) and write the same audit line, with real before values."""

from __future__ import annotations

import logging

import pytest

from cloudstore.domain.errors import InvalidInput
from cloudstore.shop.catalog import load_products
from tests.helpers import admin_headers
from tests.helpers.pages import as_admin, htmx, text

LAMBDA = "PROD-LAMBDA-10M"
CONTROL_NAME = "Bell\x07Server"
PRODUCT = {"category": "compute", "price": "1000", "stock": "1"}


def audits(caplog) -> list[dict]:
    return [r.audit for r in caplog.records if r.name == "cloudstore.audit"]


async def test_the_admin_form_refuses_a_control_character_name(client, backends, seeded):
    token = await as_admin(client, backends)
    response = await client.post(
        "/admin/products", form={**PRODUCT, "name": CONTROL_NAME}, headers=htmx(token)
    )
    assert response.status_code == 422
    assert "Remove the control characters" in await text(response)


async def test_the_api_refuses_a_control_character_name(app, client, seeded):
    response = await client.post(
        "/api/admin/products",
        json={**PRODUCT, "price": 1000, "stock": 1, "name": CONTROL_NAME},
        headers=await admin_headers(app),
    )
    assert response.status_code == 400


async def test_a_seed_file_with_a_control_character_name_is_refused(backends):
    with pytest.raises(InvalidInput, match="entry 0: name"):
        await load_products(backends, [{**PRODUCT, "price": 1000, "name": CONTROL_NAME}])


async def test_the_api_refuses_a_description_longer_than_the_admin_form_allows(app, client, seeded):
    response = await client.put(
        f"/api/admin/products/{LAMBDA}",
        json={"description": "x" * 4001},
        headers=await admin_headers(app),
    )
    assert response.status_code == 400


async def test_the_api_refuses_a_stock_change_larger_than_the_admin_form_allows(
    app, client, seeded
):
    response = await client.post(
        f"/api/admin/products/{LAMBDA}/stock",
        json={"delta": 100_001},
        headers=await admin_headers(app),
    )
    assert response.status_code == 400


async def test_an_api_update_is_audited_with_real_before_values(app, client, seeded, caplog):
    headers = await admin_headers(app)
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        await client.put(f"/api/admin/products/{LAMBDA}", json={"price": 4321}, headers=headers)
    assert audits(caplog)[0]["before"] == {"price": seeded[LAMBDA]["price"]}


async def test_an_admin_page_edit_with_a_stock_change_is_one_audit_line(
    client, backends, seeded, caplog
):
    token = await as_admin(client, backends)
    form = {"name": seeded[LAMBDA]["name"], "category": "compute", "price": "77000"}
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        await client.put(
            f"/admin/products/{LAMBDA}",
            form={**form, "stock_delta": "2"},
            headers={**htmx(token, current="/admin/products"), "HX-Target": f"product-{LAMBDA}"},
        )
    stock = seeded[LAMBDA]["stock"]
    assert [(a["action"], a["before"]["stock"], a["after"]["stock"]) for a in audits(caplog)] == [
        ("update_product", stock, stock + 2)
    ]
