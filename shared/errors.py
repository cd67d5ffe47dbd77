"""Domain errors with stable machine-readable codes; mapped to HTTP in one place (shared.http)."""

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
    status: int = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationFailed(DomainError):
    def __init__(self, message: str, errors: list[FieldError] | None = None, code: str = "validation_error") -> None:
        super().__init__(message=message, code=code, errors=errors or [], status=400)


class NotFound(DomainError):
    def __init__(self, message: str = "Not found.", code: str = "not_found") -> None:
        super().__init__(message=message, code=code, status=404)


class Forbidden(DomainError):
    def __init__(self, message: str = "You are not allowed to do this.", code: str = "forbidden") -> None:
        super().__init__(message=message, code=code, status=403)


class Conflict(DomainError):
    def __init__(self, message: str, code: str = "conflict", errors: list[FieldError] | None = None) -> None:
        super().__init__(message=message, code=code, errors=errors or [], status=409)


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            message="This Idempotency-Key was already used with a different request body.",
            code="idempotency_key_reused",
            status=422,
        )


class NotYetDue(Exception):
    """A timer message arrived before its time (clock skew): fail it, so the queue delivers it again; never drop it."""
