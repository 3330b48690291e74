"""The API's envelope: {"success": true, ...} and {"success": false, "error": "..."}."""

from __future__ import annotations

from typing import Any, cast

from quart import Response, current_app, jsonify
from quart.json.provider import DefaultJSONProvider


def ok(http_status: int = 200, headers: dict | None = None, **fields: Any):
    response = jsonify({"success": True, **fields})
    response.status_code = http_status
    if headers:
        response.headers.update(headers)
    return response


def envelope_json(**fields: Any) -> str:
    """A success envelope serialised, for answers kept and sent again (`ok_json`)."""
    return current_app.json.dumps({"success": True, **fields}) + "\n"


def ok_json(body: str, http_status: int = 200) -> Response:
    return Response(
        body, http_status, mimetype=cast(DefaultJSONProvider, current_app.json).mimetype
    )


def fail(http_status: int, error: str, headers: dict | None = None, **details: Any):
    response = jsonify({"success": False, "error": error, **details})
    response.status_code = http_status
    if headers:
        response.headers.update(headers)
    return response
