"""Powertools logger, metrics and tracer, one set per function (service name from POWERTOOLS_SERVICE_NAME)."""

from __future__ import annotations

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.tracing import Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
