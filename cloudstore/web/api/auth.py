from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import document_response, security_scheme, validate_request

from cloudstore.shop import accounts
from cloudstore.web.api.models import ErrorOut, LoginBody, RegisterBody, SessionOut, UserEnvelope
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
