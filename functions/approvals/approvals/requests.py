"""Approval requests consumer (Handler `approvals.requests.handler`): store the waiting task, email the approvers."""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from pydantic import TypeAdapter

from approvals.emails import SignedDecisionLinks
from approvals.models import ApprovalCloseMessage, ApprovalsQueueMessage
from approvals.repository import DynamoApprovalRepository
from approvals.service import ApprovalReactions
from approvals.settings import RequestsSettings
from approvals.workflow import StepFunctionsCallbacks
from shared.adapters import SesMailer
from shared.consumers import sqs_handler
from shared.links import signing_key

SETTINGS = RequestsSettings.from_env()


@cache
def service() -> ApprovalReactions:
    return ApprovalReactions(
        DynamoApprovalRepository(SETTINGS.table_name),
        mailer=SesMailer(str(SETTINGS.mail_from)),
        links=SignedDecisionLinks(
            key=partial(signing_key, SETTINGS.link_secret_arn),
            base_url=str(SETTINGS.link_base_url),
            ttl_seconds=SETTINGS.link_ttl_seconds,
        ),
        workflow=StepFunctionsCallbacks(),
    )


@cache
def _messages() -> TypeAdapter[ApprovalsQueueMessage]:
    return TypeAdapter(ApprovalsQueueMessage)


def handle_message(body: dict[str, Any], context: Any = None) -> str:
    message = _messages().validate_python(body)
    if isinstance(message, ApprovalCloseMessage):
        return service().close(message)
    return service().register(message)


handler = sqs_handler(handle_message)
