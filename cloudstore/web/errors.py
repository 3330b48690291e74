"""Every error becomes a clear answer: the JSON envelope under /api, a friendly page elsewhere.

Nothing an exception says about our internals (SQL, hosts, stack) reaches a response.
"""

from __future__ import annotations

import logging

from quart import Quart, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from cloudstore.domain.errors import BackendUnavailable, DomainError
from cloudstore.web.envelope import fail
from cloudstore.web.rendering import render

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


def wants_json() -> bool:
    return request.path.startswith("/api") or request.path.startswith("/health")


def validation_message(error: RequestSchemaValidationError) -> str:
    cause = error.validation_error
    errors = getattr(cause, "errors", None)
    if callable(errors):
        first = errors(include_url=False, include_input=False)[0]
        location = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = first.get("msg", "is invalid")
        if not location and first.get("type") in (
            "model_type",
            "dict_type",
            "model_attributes_type",
        ):
            return "request body must be a JSON object (Content-Type: application/json)"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        return f"{location}: {message}" if location else message
    return "request body is not valid"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


async def render_error_page(status: int, message: str | None = None):
    try:
        body = await render(
            "error.html", status=status, message=message or FRIENDLY.get(status, "Error")
        )
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        body = f"<!doctype html><title>{status}</title><h1>{FRIENDLY.get(status, 'Error')}</h1>"
    return body, status


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(DomainError)
    async def domain_error(error: DomainError):
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        if wants_json():
            return fail(error.status, error.message, headers=headers, **error.details)
        body, status = await render_error_page(error.status, error.message)
        return body, status, headers or {}

    @app.errorhandler(BackendUnavailable)
    async def backend_unavailable(error: BackendUnavailable):
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
        if wants_json():
            message = error.message or "service temporarily unavailable, please retry"
            return fail(503, message, headers=headers)
        body, status = await render_error_page(503, error.message and _sentence(error.message))
        return body, status, headers

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
                413: "request body is too large (limit 1 MB)",
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
