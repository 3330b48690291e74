"""Every error becomes a clear answer: the JSON envelope under /api, a friendly page elsewhere.

Nothing an exception says about our internals (SQL, hosts, stack) reaches a response.
"""

from __future__ import annotations

import logging

from quart import Quart, current_app, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from cloudstore.domain.errors import BackendUnavailable, DomainError, ErrorCode
from cloudstore.domain.field_messages import FORMATS, required, too_long
from cloudstore.domain.images import megabytes
from cloudstore.web.api.models import NOT_BLANK
from cloudstore.web.envelope import fail
from cloudstore.web.html.rendering import render, render_block
from cloudstore.web.html.responses import current_page, is_htmx
from cloudstore.web.uploads import is_upload_route

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"
FRIENDLY = {
    400: "That request was not quite right.",
    401: "Please log in first.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That action is not allowed here.",
    409: "That could not be done right now.",
    413: "That upload is too large.",
    415: "That kind of content is not supported.",
    429: "Too many attempts. Please wait a moment.",
    500: "Something went wrong on our side.",
    503: "The shop is briefly unavailable. Please try again in a moment.",
}


def _too_large_message() -> str:
    settings = current_app.extensions["cloudstore"].settings
    if is_upload_route(request.method, request.path):
        limit = megabytes(settings.max_upload_bytes)
        return f"request body is too large (an image may be at most {limit})"
    return f"request body is too large (limit {megabytes(settings.max_body_bytes)})"


def wants_json() -> bool:
    return request.path.startswith("/api") or request.path.startswith("/health")


OBJECT_ERRORS = ("model_type", "dict_type", "model_attributes_type")
NUMBER_ERRORS = (
    *("int_type", "int_parsing", "int_parsing_size", "int_from_float", "decimal_type"),
    *("float_type", "float_parsing", "decimal_parsing", "finite_number"),
)


def validation_message(error: RequestSchemaValidationError) -> str:
    """The first problem of a request, written for a person: which field and what to send.

    pydantic's own wording ("String should match pattern '^\\+?[0-9(]...'") never reaches
    the client: each kind of problem has a sentence here, and fields with a format (phone,
    email, postal code...) say what that format is (`domain.field_messages`)."""
    cause = error.validation_error
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return "request body is not valid"
    first = errors(include_url=False, include_input=False)[0]
    location = [part for part in first.get("loc", ()) if part != "body"]
    kind = first.get("type", "")
    if not location:
        if kind in OBJECT_ERRORS:
            return "request body must be a JSON object (Content-Type: application/json)"
        return "request body is not valid"
    field = ".".join(str(part) for part in location)
    name = next((str(part) for part in reversed(location) if isinstance(part, str)), field)
    return f"{field} {_predicate(kind, name, first.get('ctx') or {})}"


def _predicate(kind: str, name: str, ctx: dict) -> str:
    """What the field must be, for one kind of validation error."""
    known = FORMATS.get(name)
    if kind == "missing":
        return required(name)
    if kind == "value_error":
        message = str(ctx.get("error", "")) or "is not valid"
        # Our validators word their messages for a person; some start with the field's name.
        return message.removeprefix(f"{name} ")
    if known and kind.startswith("string_"):
        return known
    if kind == "string_type":
        return "must be text"
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
    if kind == "string_too_long":
        return too_long(int(ctx.get("max_length", 0)))
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == NOT_BLANK:
            return "must not be blank or hold control characters"
        return "must not hold control characters"
    if kind in NUMBER_ERRORS:
        return "must be a whole number"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "literal_error":
        return "must be one of " + str(ctx.get("expected", "")).replace("'", "")
    if kind == "list_type":
        return "must be a list"
    if kind == "too_short":
        return f"must hold at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must hold at most {ctx.get('max_length')} items"
    if kind in OBJECT_ERRORS:
        return "must be an object"
    return f"is not valid: it {known}" if known else "is not valid"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


async def render_error_page(status: int, message: str | None = None, *, expired: bool = False):
    """The error page; for an htmx action, a toast where the shopper is looking instead
    (`error_toast`). `expired`: the form's CSRF token no longer holds (offer a reload)."""
    text = message or FRIENDLY.get(status, "Error")
    if is_htmx():
        return await error_toast(status, text, expired=expired)
    try:
        body = await render("error.html", status=status, message=text)
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        body = f"<!doctype html><title>{status}</title><h1>{FRIENDLY.get(status, 'Error')}</h1>"
    return body, status, {}


async def error_toast(status: int, text: str, *, expired: bool = False):
    """An htmx action that failed: the page stays, and an error toast says why (an
    out-of-band swap; `HX-Reswap: none` keeps the action's own target as it was, and marks
    the answer for static/js/feedback.js, which lets htmx swap it although it is an error).
    An expired form offers to reload the page it was on."""
    toast = {
        "kind": "error",
        "text": _sentence(text) + (" Please try again in a moment." if status == 500 else ""),
        "reload": current_page("/", "/") if expired else "",
    }
    try:
        body = await render_block("base.html", "toasts", toast=toast, oob=True)
    except Exception:  # noqa: BLE001 - the answer itself must never fail
        body = ""
    return body, status, {"HX-Reswap": "none", "Cache-Control": "no-store", "Vary": "HX-Request"}


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(DomainError)
    async def domain_error(error: DomainError):
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        if wants_json():
            return fail(error.status, error.message, headers=headers, **error.details)
        expired = error.code == ErrorCode.CSRF_FAILED
        body, status, extra = await render_error_page(error.status, error.message, expired=expired)
        return body, status, {**extra, **(headers or {})}

    @app.errorhandler(BackendUnavailable)
    async def backend_unavailable(error: BackendUnavailable):
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
        if wants_json():
            message = error.message or "service temporarily unavailable, please retry"
            return fail(503, message, headers=headers)
        body, status, extra = await render_error_page(
            503, error.message and _sentence(error.message)
        )
        return body, status, {**extra, **headers}

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_body(error: RequestSchemaValidationError):
        if wants_json():
            return fail(400, validation_message(error))
        return await render_error_page(400)

    @app.errorhandler(UnicodeDecodeError)
    async def undecodable(_error: UnicodeDecodeError):
        if wants_json():
            return fail(400, "request body must be UTF-8 encoded JSON")
        return await render_error_page(400)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException):
        status = error.code or 500
        if wants_json():
            message = {
                400: "request body is not valid JSON",
                413: _too_large_message(),
            }.get(status, (error.name or "error").lower())
            response = fail(status, message)
            if status == 405 and error.get_response is not None:
                allow = error.get_response().headers.get("Allow")
                if allow:
                    response.headers["Allow"] = allow
            return response
        return await render_error_page(status)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return fail(500, "internal server error")
        return await render_error_page(500)
