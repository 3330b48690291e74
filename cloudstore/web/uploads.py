"""The routes that take an image upload, and their own body limit.

Every other route refuses bodies over `MAX_CONTENT_LENGTH` (1 MB). The request body's limit is
fixed when Quart makes the request object (before routing, while the body may already be
arriving), so the upload routes are told apart by method and path here, in one pattern that
deploy/nginx.conf repeats for its `client_max_body_size`:

- `POST /admin/products` (the new-product form), `POST|PUT /admin/products/<id>` (the edit
  form),
- `POST /api/admin/products/<id>/image` (the API's upload).
"""

from __future__ import annotations

import re
from typing import Any

from cloudstore.domain.images import megabytes
from cloudstore.settings import Settings
from cloudstore.web.jsonio import ShopRequest

UPLOAD_PATHS = re.compile(
    r"^/(admin/products(/[A-Za-z0-9_-]{1,64})?|api/admin/products/[A-Za-z0-9_-]{1,64}/image)$"
)
UPLOAD_METHODS = frozenset({"POST", "PUT"})
# Room for the form's other fields (name, description, CSRF token, multipart framing).
FORM_ALLOWANCE = 1024 * 1024


def upload_body_limit(settings: Settings) -> int:
    return settings.max_upload_bytes + FORM_ALLOWANCE


def is_upload_route(method: str, path: str) -> bool:
    return method in UPLOAD_METHODS and bool(UPLOAD_PATHS.match(path))


def too_large_message(settings: Settings) -> str:
    return f"the image is larger than {megabytes(settings.max_upload_bytes)}"


def request_class(settings: Settings) -> type[ShopRequest]:
    """The app's request class: the upload routes' bodies may be `upload_body_limit` long."""
    limit = upload_body_limit(settings)

    class UploadRequest(ShopRequest):
        def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any):
            if is_upload_route(method, path):
                kwargs["max_content_length"] = limit
                self._max_content_length = limit  # what the form parser is told, too
            super().__init__(method, scheme, path, *args, **kwargs)

    return UploadRequest
