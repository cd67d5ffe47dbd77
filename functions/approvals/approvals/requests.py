"""Approval requests consumer (Handler `approvals.requests.handler`): store the waiting task, email the approvers."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from approvals import domain
from approvals.emails import approval_email, approval_links
from approvals.models import Approval, ApprovalCloseMessage, ApprovalRequestMessage
from approvals.repository import ApprovalRepository, StaleApproval
from approvals.settings import RequestsSettings
from shared import mail
from shared.clock import iso, utc_now
from shared.consumers import sqs_handler
from shared.links import signing_key

SETTINGS = RequestsSettings.from_env()


@cache
def repository() -> ApprovalRepository:
    return ApprovalRepository(SETTINGS.table_name)


def notify(approval: Approval, recipients: list[str]) -> None:
    key = signing_key(SETTINGS.link_secret_arn)
    expires = int(time.time()) + SETTINGS.link_ttl_seconds
    for approver in recipients:
        links = approval_links(approval, approver, key=key, base_url=str(SETTINGS.link_base_url), expires=expires)
        mail.send(str(SETTINGS.mail_from), approval_email(approval, approver, links))
    repository().mark_notified(approval.approval_id, approval.token_version)


def register(message: ApprovalRequestMessage) -> str:
    """Store the request (or its new token) once; email unless this exact request was already mailed."""
    for _ in range(3):  # optimistic: re-read if a concurrent delivery changed the record
        existing = repository().get(message.approval_id)
        updated = domain.register(existing, message, utc_now())
        if updated is None:
            if existing is not None and not existing.notified and existing.status == "pending":
                notify(existing, [str(a).lower() for a in message.approvers])  # an earlier attempt failed to mail
                return "notified on retry"
            return "duplicate"
        try:
            if existing is None:
                repository().create(updated)
            else:
                repository().replace_token(updated, existing.task_token)
        except StaleApproval:
            continue
        if updated.status != "pending":
            return f"token refreshed on a {updated.status} approval"
        notify(updated, [str(a).lower() for a in message.approvers])
        return f"{message.kind} sent"
    raise RuntimeError(f"approval {message.approval_id} kept changing; will retry")


def handle_message(body: dict[str, Any], context: Any = None) -> str:
    if body.get("kind") == "close":
        close = ApprovalCloseMessage.model_validate(body)
        closed = repository().close(close.approval_id, iso(utc_now()))
        return "closed" if closed else "not pending"
    return register(ApprovalRequestMessage.model_validate(body))


handler = sqs_handler(handle_message)
