"""One context's HTTP edge: the Chalice app with Powertools middleware, JSON answers and idempotent POSTs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, ConvertToMiddleware

from shared.http import api_errors, current, json_response, parse_json
from shared.observability import logger, metrics, tracer
from shared.requests import replay_safe_post


class ApiEdge:
    """What every context's routes share; the routes themselves stay in the context's `api` module."""

    def __init__(self, name: str, *, table_name: str, allowed_origin: str) -> None:
        self.table_name = table_name
        self.allowed_origin = allowed_origin
        self.app = Chalice(app_name=name)
        self.app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
        self.app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
        self.app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
        self.errors = api_errors(lambda: allowed_origin, logger)

    def respond(self, status: int, body: Any) -> Any:
        return json_response(status, body, origin=self.allowed_origin)

    def post_once(
        self, operation: str, caller: str, run: Callable[[], tuple[int, Any]], *, body_is_key: bool = False
    ) -> Any:
        """Replay a retry with the same Idempotency-Key; creating routes also treat an identical body as a retry."""
        request = current(self.app)
        status, body = replay_safe_post(
            table_name=self.table_name,
            operation=operation,
            caller=caller,
            headers=request.headers,
            payload=parse_json(request.raw_body),
            run=run,
            lambda_context=self.app.lambda_context,
            body_is_key=body_is_key,
        )
        return self.respond(status, body)
