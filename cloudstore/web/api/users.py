from __future__ import annotations

from quart import Blueprint, request
from quart_schema import document_response, security_scheme, validate_request

from cloudstore.shop import accounts
from cloudstore.web.api.models import (
    AddressUpdate,
    ErrorOut,
    PasswordChangeBody,
    TokenOut,
    UserEnvelope,
)
from cloudstore.web.envelope import ok
from cloudstore.web.session import (
    backends,
    bearer_token,
    current_user,
    login_required,
    set_session_cookie,
    signed_in_token,
)

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


@bp.put("/password")
@security_scheme([{"bearer": []}])
@login_required
@validate_request(PasswordChangeBody)
@document_response(TokenOut, 200)
@document_response(ErrorOut, 400)
@document_response(ErrorOut, 429)
async def change_password(data: PasswordChangeBody):
    """Change the password. This client stays signed in with the new `token` (the old one
    stops working); every other session of the account ends. A wrong current_password is
    a 400."""
    session = await accounts.change_password(
        backends(),
        signed_in_token(),
        current_password=data.current_password,
        new_password=data.new_password,
        client_ip=request.remote_addr,
    )
    response = ok(token=session.token)
    if bearer_token() is None:  # the browser's cookie: it carries the new session
        set_session_cookie(response, session.token)
    return response
