"""Scan and Query answers serialised with ``json.dumps``.

moto's generic, model-driven response serialiser walks the botocore shape of every
attribute of every item (about 2 ms per product here: 100 s for a 50,000-item catalog). A
Scan or Query result is plain typed JSON once moto's ``DynamoResult`` has converted it, so
``json.dumps`` writes the same document.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cloudstore.localdynamo import moto_internals as mi


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class _JsonResult(mi.ActionResult):
    """An ``ActionResult`` (``call_action`` checks ``isinstance``) that writes itself."""

    def execute_result(self, context: Any) -> tuple[int, dict[str, str], str]:  # noqa: ARG002
        body = json.dumps(self.result, separators=(",", ":"), default=_default)
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": os.urandom(26).hex()[:52],
        }
        return 200, headers, body


def as_json(result: Any) -> Any:
    if type(result) is not mi.DynamoResult:
        return result
    return _JsonResult(result.result)


def install() -> list[mi.Patch]:
    patches = []
    for name in ("scan", "query"):
        original = getattr(mi.DynamoHandler, name)

        def handler(handler: Any, _original: Any = original) -> Any:
            return as_json(_original(handler))

        patches.append(mi.Patch(mi.DynamoHandler, name, handler))
    return patches
