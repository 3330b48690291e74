"""A failed htmx action is never silent: the server answers it with an error toast (an
out-of-band swap, `HX-Reswap: none`), not an error page htmx would drop
(web/errors.py; static/js/feedback.js lets htmx swap it)."""

from __future__ import annotations

from tests.helpers.pages import csrf_token, htmx, is_fragment, text

EC2 = "PROD-EC2-T3MEDIUM"


async def test_an_expired_form_answers_an_htmx_action_with_a_toast_offering_a_reload(
    client, seeded
):
    await csrf_token(client)
    response = await client.post(
        "/cart/items",
        form={"product_id": EC2, "quantity": "1"},
        headers=htmx("x" * 43, current="/?q=ec2"),
    )
    body = await text(response)
    assert response.status_code == 403
    assert response.headers["HX-Reswap"] == "none"
    assert is_fragment(body) and 'id="toasts"' in body and 'hx-swap-oob="innerHTML"' in body
    assert "This form has expired" in body
    assert 'class="toast-action" href="/?q=ec2">Reload the page</a>' in body


async def test_a_missing_product_answers_an_htmx_action_with_a_toast(client, seeded):
    token = await csrf_token(client)
    response = await client.post(
        "/cart/items", form={"product_id": "PROD-NOPE", "quantity": "1"}, headers=htmx(token)
    )
    body = await text(response)
    assert response.status_code == 404 and response.headers["HX-Reswap"] == "none"
    assert "toast-error" in body and "Reload the page" not in body


async def test_without_htmx_the_error_is_still_a_page(client, seeded):
    token = await csrf_token(client)
    response = await client.post(
        "/cart/items", form={"product_id": "PROD-NOPE", "quantity": "1", "csrf_token": token}
    )
    assert response.status_code == 404 and "<html" in await text(response)
    assert "HX-Reswap" not in response.headers
