"""Errors the rules raise; the web layer turns each into a status code and a message.

Every error carries a `code` from `ErrorCode` (as Saleor's `error_codes.py` does): views and
templates decide by the code (and `field`, for forms), never by the wording of the message,
so a message can be reworded without changing what a page does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    # Input: malformed, missing or out of bounds (`field` says which input).
    INVALID = "invalid"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"
    INVALID_CURSOR = "invalid_cursor"
    # Accounts and access.
    AUTH_REQUIRED = "auth_required"
    INVALID_CREDENTIALS = "invalid_credentials"
    TOKEN_INVALID = "token_invalid"  # noqa: S105 - an error code, not a secret
    ACCOUNT_GONE = "account_gone"
    ACCOUNT_NOT_FOUND = "account_not_found"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an error code, not a secret
    EMAIL_TAKEN = "email_taken"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    RESET_TOKEN_INVALID = "reset_token_invalid"  # noqa: S105 - an error code, not a secret
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    OWN_ACCOUNT = "own_account"  # an admin may not disable or demote themselves
    # Catalog.
    PRODUCT_NOT_FOUND = "product_not_found"
    PRODUCT_EXISTS = "product_exists"
    PRODUCT_CHANGED = "product_changed"
    STOCK_BELOW_ZERO = "stock_below_zero"
    # Product images.
    IMAGE_TYPE = "image_type"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_CORRUPT = "image_corrupt"
    IMAGE_TOO_MANY_PIXELS = "image_too_many_pixels"
    # Carts and checkout.
    CART_EMPTY = "cart_empty"
    CART_TOO_LARGE = "cart_too_large"
    OUT_OF_STOCK = "out_of_stock"
    PRICE_CHANGED = "price_changed"
    TOTAL_MISMATCH = "total_mismatch"
    STOCK_MOVED = "stock_moved"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    ORDER_NOT_AS_SEEN = "order_not_as_seen"
    TOO_MANY_PENDING_ORDERS = "too_many_pending_orders"
    # Orders.
    ORDER_NOT_FOUND = "order_not_found"
    INVALID_TRANSITION = "invalid_transition"
    NOT_CANCELLABLE = "not_cancellable"
    ORDER_CHANGED = "order_changed"
    STATUS_SYSTEM_ONLY = "status_system_only"
    # Payments.
    PAYMENT_SIGNATURE_INVALID = "payment_signature_invalid"
    PAYMENT_AMOUNT_MISMATCH = "payment_amount_mismatch"


class DomainError(Exception):
    """A rule refused. `code` is required: a subclass may fix it (`default_code`), else
    every raise names one. `field` names the input at fault, when one is."""

    status = 400
    default_code: ClassVar[ErrorCode | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        field: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        resolved = code or self.default_code
        if resolved is None:
            raise TypeError(f"{type(self).__name__} needs an error code")
        self.message = message
        self.code: ErrorCode = resolved
        self.field = field
        self.details = details

    def sentence(self) -> str:
        """The message as a sentence for a page: capitalised, with a full stop."""
        text = self.message
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class InvalidInput(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class TooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


class BackendUnavailable(Exception):
    """A database did not answer in time or refused the connection (→ 503). `message`, when
    given, is what the client is told (e.g. whether a write happened); else a generic line."""

    def __init__(self, backend: str, message: str | None = None) -> None:
        super().__init__(f"{backend} is unavailable")
        self.backend = backend
        self.message = message


class UnclearOutcome(BackendUnavailable):
    """A write was sent but no answer came (a timeout, a dropped connection, a server
    error): it may or may not have been applied. Callers that can find out do so."""
