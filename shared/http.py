"""HTTP edge for Chalice apps: body parsing into pydantic models, the caller's verified identity, error mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from shared.principal import Principal, claimed_groups

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024
JSON_TYPES = ["application/json", "text/plain"]


# Each kind of domain error answers one status; the most specific class listed wins (see `status_of`).
_STATUSES: tuple[tuple[type[DomainError], int], ...] = (
    (ValidationFailed, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (IdempotencyKeyReused, 422),
    (Unavailable, 503),
)


def status_of(error: DomainError) -> int:
    """The HTTP status that answers a domain error (400 for a kind not listed)."""
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status
    return 400


def current(app: Any) -> Any:
    """The Chalice app's request being handled (always set while a view runs)."""
    request = app.current_request
    if request is None:
        raise RuntimeError("no request is being handled")
    return request


def principal_from(current_request: Any) -> Principal:
    claims = ((current_request.context or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not sub:
        # Only reachable if a route was deployed without the authorizer: fail closed.
        raise Unauthorized()
    return Principal(
        sub=str(sub),
        email=str(claims.get("email", "")).lower(),
        name=str(claims.get("name", "")),
        partner_id=str(claims["custom:partner_id"]) if claims.get("custom:partner_id") else None,
        groups=claimed_groups(claims.get("cognito:groups")),
    )


def bounded_int(params: Mapping[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    """A query parameter that must be an integer from `low` to `high` (`default` when absent); else 400 naming it."""
    try:
        value = int((params or {}).get(name, str(default)))
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be {low} to {high}.", [FieldError(name, f"{low} to {high}")])
    return value


def id_or_400(value: str | None, pattern: re.Pattern[str], field: str) -> str:
    """A path id of `field`'s shape, else 400 naming `field` (an odd one must not reach DynamoDB's key limits as a
    500; a well-formed id that names nothing is the service's 404)."""
    if not pattern.fullmatch(value or ""):
        raise ValidationFailed(f"{field} is not valid.", [FieldError(field, "not a valid id")])
    return value or ""


def id_or_404(value: str | None, pattern: re.Pattern[str], what: str) -> str:
    """A path id of the right shape, else 404 `No such <what>.` (routes that answer an odd id as unknown)."""
    if not pattern.fullmatch(value or ""):
        raise NotFound(f"No such {what}.")
    return value or ""


def field_errors(error: ValidationError) -> list[FieldError]:
    found = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        found.append(FieldError(field=path, message=message))
    return found


def parse_json(raw_body: bytes | str | None) -> Any:
    raw = raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.", [FieldError("body", "too large")])
    if not raw:
        raise ValidationFailed("A JSON body is required.", [FieldError("body", "missing")], code="invalid_json")
    try:
        return json.loads(raw)
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            "Request body is not valid JSON.", [FieldError("body", "not UTF-8 text")], "invalid_json"
        ) from error
    except json.JSONDecodeError as error:  # its message says where: "Expecting ',' delimiter: line 1 column 9 ..."
        raise ValidationFailed(
            "Request body is not valid JSON.", [FieldError("body", str(error))], "invalid_json"
        ) from error
    except (ValueError, RecursionError) as error:  # a number too long to convert, nesting too deep
        raise ValidationFailed(
            "Request body is not valid JSON.",
            [FieldError("body", "a number or nesting too large to read")],
            "invalid_json",
        ) from error


def parse_body(current_request: Any, model: type[ModelT]) -> ModelT:
    """The request body as `model`; any problem becomes a 400 naming the field. Nothing is written before this."""
    data = parse_json(current_request.raw_body)
    if not isinstance(data, dict):
        raise ValidationFailed("Request body must be a JSON object.", [FieldError("body", "expected an object")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed("Request body is invalid.", field_errors(error)) from error


def error_body(error: DomainError) -> dict[str, Any]:
    return {
        "code": error.code,
        "message": error.message,
        "errors": [{"field": e.field, "message": e.message} for e in error.errors],
    }


def json_response(status: int, body: Any, *, origin: str | None = None, headers: dict[str, str] | None = None) -> Any:
    from chalice import Response

    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if origin:
        all_headers["Access-Control-Allow-Origin"] = origin
        all_headers["Vary"] = "Origin"
    return Response(
        body=json.dumps(body, separators=(",", ":")), status_code=status, headers={**all_headers, **(headers or {})}
    )


def api_errors(origin: Callable[[], str | None], logger: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for Chalice views: domain errors become JSON 4xx; anything unexpected a JSON 500 (and a log line)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                return json_response(status_of(error), error_body(error), origin=origin())
            except Exception:
                logger.exception("unhandled error")
                body = {"code": "internal_error", "message": "Something went wrong; nothing was changed.", "errors": []}
                return json_response(500, body, origin=origin())

        return wrapper

    return decorate


# Chalice answers some requests itself (415 unsupported media type, 405, 400 bad JSON, 500) with {"Code","Message"}.
_CHALICE_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "throttled",
}
_CHALICE_FIELDS = {415: "Content-Type", 405: "method"}


def _has_content_type(request: Any) -> bool:
    headers = getattr(request, "headers", None) or {}
    return any(name.lower() == "content-type" and value for name, value in dict(headers).items())


def documented_errors(origin: str | None = None) -> Callable[[Any, Callable[[Any], Any]], Any]:
    """Chalice 'http' middleware: its own error bodies become the documented {"code","message","errors"}, with the
    CORS header every other answer of the app carries (the portal cannot read an answer without it)."""

    def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
        response = get_response(event)
        body = response.body
        if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
            return response
        status = response.status_code
        code = _CHALICE_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
        message = str(body["Message"]) if status < 500 else "Something went wrong; nothing was changed."
        if status == 415 and not _has_content_type(event):  # Chalice names the type it assumed, not one that was sent
            message = "The request has no Content-Type: send the body with the type this route reads."
        field = _CHALICE_FIELDS.get(status, "body")
        errors = [] if status >= 500 else [{"field": field, "message": message}]
        response.body = json.dumps({"code": code, "message": message, "errors": errors}, separators=(",", ":"))
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}
        response.headers = {**response.headers, "Content-Type": "application/json", **cors}
        return response

    return middleware


class FormRefused(Exception):
    """A link page's form that cannot be read: the page answers `status` with this title and message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def read_form(raw: bytes, *, max_bytes: int, max_fields: int) -> dict[str, str]:
    """A bounded application/x-www-form-urlencoded body (the first value of each field)."""
    from urllib.parse import parse_qs

    if len(raw) > max_bytes:
        raise FormRefused(413, "Too large", "The form is too large.")
    try:
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), max_num_fields=max_fields).items()}
    except (UnicodeDecodeError, ValueError) as error:
        raise FormRefused(400, "Bad form", "The form could not be read.") from error
