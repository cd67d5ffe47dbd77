"""Powertools logger, metrics and tracer, one set per function (service name from POWERTOOLS_SERVICE_NAME)."""

from __future__ import annotations

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.tracing import Tracer

logger = Logger()
metrics = Metrics()
# auto_patch=False: patching every X-Ray-supported library at import costs ~100 ms of cold start; shared.aws
# patches botocore when the first AWS client is made, so AWS calls still appear as subsegments.
tracer = Tracer(auto_patch=False)

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
