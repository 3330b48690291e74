"""Who is asking: the request's user, looked up once and kept on `g`."""

from __future__ import annotations

import pytest

from cloudstore.domain.errors import Unauthorized
from cloudstore.web.session import current_user


async def test_required_user_is_refused_after_an_optional_look_found_no_one(app):
    async with app.test_request_context("/"):
        assert await current_user(required=False) is None
        with pytest.raises(Unauthorized):
            await current_user(required=True)
