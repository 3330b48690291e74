from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme, validate_request

from cloudstore.shop import accounts
from cloudstore.web.api.models import AddressUpdate, ErrorOut, UserEnvelope
from cloudstore.web.envelope import ok
from cloudstore.web.session import backends, current_user, login_required

bp = Blueprint("users", __name__, url_prefix="/user")


@bp.get("/profile")
@security_scheme([{"bearer": []}])
@login_required
@document_response(UserEnvelope, 200)
async def profile():
    """The logged-in user's profile and saved address."""
    user = await current_user()
    return ok(user=user.public())


@bp.put("/address")
@security_scheme([{"bearer": []}])
@login_required
@validate_request(AddressUpdate)
@document_response(UserEnvelope, 200)
@document_response(ErrorOut, 400)
async def save_address(data: AddressUpdate):
    """Save the shipping address (and optionally name and phone) to the profile."""
    user = await current_user()
    updated = await accounts.update_profile(
        backends(), user.user_id, data.model_dump(exclude_none=True)
    )
    return ok(user=updated.public())
