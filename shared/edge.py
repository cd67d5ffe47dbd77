"""One context's HTTP edge: the Chalice app with Powertools middleware, JSON answers and idempotent POSTs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Chalice, ConvertToMiddleware

from shared.errors import DomainError
from shared.http import api_errors, current, documented_errors, error_body, json_response, parse_json, status_of
from shared.identity import LiveIdentity, cognito_lookup
from shared.observability import logger, metrics, tracer
from shared.requests import replay_safe_post
from shared.settings import ApiSettings


class ApiEdge:
    """What every context's routes share; the routes themselves stay in the context's `api` module."""

    def __init__(self, name: str, settings: ApiSettings) -> None:
        self.table_name = settings.table_name
        self.allowed_origin = allowed_origin = settings.allowed_origin
        self.identity = LiveIdentity(cognito_lookup(settings.user_pool_id), max_age=settings.identity_recheck_seconds)
        self.app = Chalice(app_name=name)
        self.app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
        self.app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
        self.app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
        self.app.register_middleware(documented_errors(allowed_origin), "http")
        self.app.register_middleware(self._live_identity, "http")
        self.errors = api_errors(lambda: allowed_origin, logger)

    def _live_identity(self, request: Any, get_response: Callable[[Any], Any]) -> Any:
        """Every route with the authorizer: the token's user must still be live (a token that verifies is not enough)."""
        claims = (
            ((request.context or {}).get("authorizer") or {}).get("claims") if request is not None else None
        ) or {}
        if claims:  # public routes carry none; a private route without claims fails closed in principal_from
            try:
                self.identity.check(claims)
            except DomainError as error:
                status = status_of(error)
                logger.info("refused a token", extra={"reason": error.message, "status": status})
                return json_response(status, error_body(error), origin=self.allowed_origin)
        return get_response(request)

    def respond(self, status: int, body: Any) -> Any:
        return json_response(status, body, origin=self.allowed_origin)

    def post_once(
        self, operation: str, caller: str, run: Callable[[], tuple[int, Any]], *, body_is_key: bool = False
    ) -> Any:
        """Replay a retry with the same Idempotency-Key; creating routes also treat an identical body as a retry."""
        return self.respond(*self.once(operation, caller, run, body_is_key=body_is_key))

    def once(
        self, operation: str, caller: str, run: Callable[[], tuple[int, Any]], *, body_is_key: bool = False
    ) -> tuple[int, Any]:
        """`post_once`'s (status, body), for a route that must look at a replayed answer before sending it."""
        request = current(self.app)
        return replay_safe_post(
            table_name=self.table_name,
            operation=operation,
            caller=caller,
            headers=request.headers,
            payload=parse_json(request.raw_body),
            run=run,
            lambda_context=self.app.lambda_context,
            body_is_key=body_is_key,
        )


class Routes(Blueprint):
    """A Blueprint of HTTP routes that more than one app may register (a context's second route module). Chalice's own
    hands every app the same options dict and consumes its `methods` on the first registration, so a second app (a
    test importing the API module again) would get each route as GET; each registration here gets its own copy."""

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: Any,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[Any, Any] | None = None,
    ) -> None:
        if handler_type != "route":
            raise TypeError(f"{type(self).__name__} holds HTTP routes only, not {handler_type} handlers")

        def register(app: Any, options: dict[Any, Any]) -> None:
            app._register_handler(handler_type, name, user_handler, wrapped_handler, copy.deepcopy(kwargs), options)

        self._deferred_registrations.append(register)
