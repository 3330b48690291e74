from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import document_response, security_scheme, validate_request

from cloudstore.shop import accounts
from cloudstore.web.api.models import (
    ErrorOut,
    LoginBody,
    MessageOut,
    PasswordResetBody,
    PasswordResetConfirmBody,
    RegisterBody,
    SessionOut,
    UserEnvelope,
)
from cloudstore.web.envelope import ok
from cloudstore.web.session import (
    backends,
    bearer_token,
    clear_session_cookie,
    current_user,
    login_required,
    signed_in_token,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/register")
@validate_request(RegisterBody)
@document_response(SessionOut, 201)
@document_response(ErrorOut, 409)
@document_response(ErrorOut, 429)
async def register(data: RegisterBody):
    """Create a customer account and return a session token."""
    session = await accounts.register(
        backends(),
        name=data.name,
        email=data.email,
        password=data.password,
        client_ip=request.remote_addr,
    )
    return ok(201, token=session.token, user=session.user.public())


@bp.post("/login")
@validate_request(LoginBody)
@document_response(SessionOut, 200)
@document_response(ErrorOut, 401)
@document_response(ErrorOut, 429)
async def login(data: LoginBody):
    """Exchange email and password for a session token."""
    session = await accounts.login(
        backends(), email=data.email, password=data.password, client_ip=request.remote_addr
    )
    return ok(token=session.token, user=session.user.public())


@bp.get("/verify")
@security_scheme([{"bearer": []}])
@document_response(UserEnvelope, 200)
@document_response(ErrorOut, 401)
async def verify():
    """Check a token and return its user."""
    user = await current_user()
    return ok(user=user.public())


def _signed_out() -> Response:
    response = Response("", 204)
    if bearer_token() is None:  # the browser's cookie: take it away too
        clear_session_cookie(response)
    return response


@bp.post("/logout")
@security_scheme([{"bearer": []}])
@login_required
@document_response(ErrorOut, 401)
async def logout():
    """End the session of the token this request carries (204)."""
    await accounts.logout(backends(), signed_in_token())
    return _signed_out()


@bp.post("/logout-all")
@security_scheme([{"bearer": []}])
@login_required
@document_response(ErrorOut, 401)
async def logout_all():
    """End every session of this account, this one included (204)."""
    user = await current_user()
    await accounts.logout_everywhere(backends(), user.user_id)
    return _signed_out()


RESET_REQUESTED = "if an account has this email, a link to reset its password is on its way"
RESET_DONE = "your password is changed; log in with it (every session of the account ended)"


@bp.post("/password-reset")
@validate_request(PasswordResetBody)
@document_response(MessageOut, 202)
@document_response(ErrorOut, 400)
@document_response(ErrorOut, 429)
async def password_reset(data: PasswordResetBody):
    """Mail a one-time link to reset the password (valid an hour). Always 202, whether or
    not an account has the email; 429 past RESET_LIMIT for this client."""
    await accounts.request_password_reset(
        backends(), email=data.email, client_ip=request.remote_addr
    )
    return ok(202, message=RESET_REQUESTED)


@bp.post("/password-reset/confirm")
@validate_request(PasswordResetConfirmBody)
@document_response(MessageOut, 200)
@document_response(ErrorOut, 400)
async def password_reset_confirm(data: PasswordResetConfirmBody):
    """Set a new password with the token of a reset link. The link is used up, and every
    session of the account ends. 400 for an invalid, used or expired token."""
    await accounts.reset_password(backends(), token=data.token, password=data.password)
    return ok(message=RESET_DONE)
