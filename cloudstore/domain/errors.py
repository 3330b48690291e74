"""Errors the rules raise; the web layer turns each into a status code and a message."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, **details) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


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


class BackendUnavailable(Exception):
    """A database did not answer in time or refused the connection (→ 503)."""

    def __init__(self, backend: str) -> None:
        super().__init__(f"{backend} is unavailable")
        self.backend = backend
