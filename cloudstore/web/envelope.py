"""The API's envelope: {"success": true, ...} and {"success": false, "error": "..."}."""

from __future__ import annotations

from typing import Any

from quart import jsonify


def ok(http_status: int = 200, headers: dict | None = None, **fields: Any):
    response = jsonify({"success": True, **fields})
    response.status_code = http_status
    if headers:
        response.headers.update(headers)
    return response


def fail(http_status: int, error: str, headers: dict | None = None, **details: Any):
    response = jsonify({"success": False, "error": error, **details})
    response.status_code = http_status
    if headers:
        response.headers.update(headers)
    return response
