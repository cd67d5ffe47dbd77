"""Domain errors with stable machine-readable codes. They say what went wrong, never how to answer it: the HTTP edge
maps each kind to a status in one place (`shared.http.status_of`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every expected failure; `code` is what clients branch on, never the message."""

    message: str
    code: str = "error"
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationFailed(DomainError):
    def __init__(self, message: str, errors: list[FieldError] | None = None, code: str = "validation_error") -> None:
        super().__init__(message=message, code=code, errors=errors or [])


class PayloadTooLarge(DomainError):
    """The request is larger than the operation reads."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message=message, code="payload_too_large", errors=errors or [])


class NotFound(DomainError):
    def __init__(self, message: str = "Not found.", code: str = "not_found") -> None:
        super().__init__(message=message, code=code)


class Forbidden(DomainError):
    def __init__(self, message: str = "You are not allowed to do this.", code: str = "forbidden") -> None:
        super().__init__(message=message, code=code)


class Conflict(DomainError):
    def __init__(self, message: str, code: str = "conflict", errors: list[FieldError] | None = None) -> None:
        super().__init__(message=message, code=code, errors=errors or [])


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            message="This Idempotency-Key was already used with a different request body.",
            code="idempotency_key_reused",
        )


class Unauthorized(DomainError):
    """The caller is not (or no longer) signed in."""

    def __init__(self, message: str = "Sign-in required.", code: str = "unauthorized") -> None:
        super().__init__(message=message, code=code)


class Unavailable(DomainError):
    """A dependency could not answer now; nothing was changed and the same request may be tried again."""

    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(message=message, code=code)


class NotYetDue(Exception):
    """A timer message arrived before its time (clock skew): fail it, so the queue delivers it again; never drop it."""
