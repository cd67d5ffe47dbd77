"""Approvals use cases over the ports (approvals.ports): each function gets the service with only the ports it uses.

- ApprovalsService (the link pages): the approval a link names, and deciding it once.
- ApprovalReactions (the requests queue): store a workflow's request or its new token, email the approvers, close.
- DecisionRelay (the table stream): hand a decision to the workflow waiting on the approval's current token.
"""

from __future__ import annotations

from dataclasses import dataclass

from approvals import domain, emails
from approvals.models import Approval, ApprovalCloseMessage, ApprovalRequestMessage, Decision
from approvals.ports import ApprovalRepository, DecisionLinks, StaleApproval, TaskCallbacks
from shared.clock import Clock, utc_now
from shared.errors import NotFound
from shared.observability import logger
from shared.ports import Mailer
from shared.retry import attempts

REGISTER_ATTEMPTS = 3


@dataclass
class ApprovalsService:
    repository: ApprovalRepository
    clock: Clock = utc_now

    def approval_for_link(self, approval_id: str, decision: str) -> Approval:
        """The approval a verified link names; NotFound, or DecisionRefused when it does not offer the decision."""
        approval = self.repository.get(approval_id)
        if approval is None:
            raise NotFound("There is no such approval.")
        domain.ensure_offered(approval, decision)
        return approval

    def decide(
        self, approval: Approval, *, decision: Decision, approver: str, reason: str | None, amount: str | None
    ) -> Approval:
        """Decide once. DecisionRefused says why not; NoLongerPending carries the approval as it stands now (also
        when another approver's decision landed between our read and our write)."""
        decided = domain.decide(
            approval, decision=decision, approver=approver, reason=reason, amount=amount, now=self.clock()
        )
        try:
            self.repository.record_decision(decided)
        except StaleApproval as lost:
            raise domain.NoLongerPending(self.repository.get(approval.approval_id) or approval) from lost
        return decided


@dataclass(kw_only=True)
class ApprovalReactions(ApprovalsService):
    mailer: Mailer
    links: DecisionLinks
    workflow: TaskCallbacks

    def register(self, message: ApprovalRequestMessage) -> str:
        """Store the request (or its new token) once; email whoever this request has not reached yet.

        A request for an approval still pending on another token (the workflow run again from its start) swaps the
        token, so the decision reaches the run that waits now, and mails only approvers it newly names: the others
        were mailed and their links work. Reminders and escalations mail everyone. A new token for a pending approval
        is taken only while its task still waits: a late redelivery from a stopped or re-run execution is ignored."""
        recipients = [str(a).lower() for a in message.approvers]
        for _ in attempts(REGISTER_ATTEMPTS):  # optimistic: re-read if a concurrent delivery changed the record
            existing = self.repository.get(message.approval_id)
            updated = domain.register(existing, message, self.clock())
            if updated is None:
                if existing is not None and domain.mail_missed(existing):
                    self._notify(existing, domain.unmailed(existing, recipients))
                    return "notified on retry"
                return "duplicate"
            if domain.swaps_pending_token(existing, message) and not self.workflow.waits(message.task_token):
                logger.info(
                    "approval request on a task token that no longer waits: ignored",
                    extra={"approval_id": message.approval_id, "kind": message.kind},
                )
                return "ignored: its task no longer waits"
            # A re-run's request for an approval whose approvers were mailed: the token is adopted, nobody mailed twice.
            adopted = (
                existing is not None
                and domain.repeats_request(existing, message)
                and bool(domain.mailed_already(existing))
            )
            try:
                if existing is None:
                    self.repository.create(updated)
                else:  # only if nobody changed its token or status (a decision, a close) since we read it
                    self.repository.replace_token(updated, existing.task_token, existing.status)
            except StaleApproval:
                continue
            return self._mail_stored(updated, recipients, adopted=adopted)
        raise RuntimeError(f"approval {message.approval_id} kept changing; will retry")

    def _mail_stored(self, updated: Approval, recipients: list[str], *, adopted: bool) -> str:
        """Mail, for the request just stored, whoever it has not reached yet."""
        if updated.status != "pending":
            return f"token refreshed on a {updated.status} approval"
        newcomers = domain.unmailed(updated, recipients)
        if adopted:
            logger.info(
                "approval requested again on a new task token: token adopted, approvers not mailed again",
                extra={
                    "approval_id": updated.approval_id,
                    "token_version": updated.token_version,
                    "new_approvers": len(newcomers),
                },
            )
            if newcomers:  # named only now: they have no mail about it yet (notified once they have)
                self._notify(updated, newcomers)
                return "token adopted; new approvers mailed"
            return "token adopted"
        self._notify(updated, newcomers)
        return f"{updated.kind} sent"

    def close(self, message: ApprovalCloseMessage) -> str:
        """The workflow stopped waiting: the approval's links stop working."""
        return "closed" if self.repository.close(message.approval_id, self.clock()) else "not pending"

    def _notify(self, approval: Approval, recipients: list[str]) -> None:
        """Mail `recipients`, then record the request notified with them among the approvers mailed; a failed send
        leaves it unnotified, so the redelivered request mails whoever has not been mailed."""
        now = self.clock()
        for approver in recipients:
            links = self.links.for_approver(approval, approver, now=now)
            self.mailer.send(emails.approval_email(approval, approver, links))
        mailed = list(dict.fromkeys([*domain.mailed_already(approval), *recipients]))
        self.repository.mark_notified(approval.approval_id, approval.token_version, mailed)


@dataclass
class DecisionRelay:
    callbacks: TaskCallbacks

    def relay(self, new: Approval, old: Approval | None) -> str:
        """Resume the workflow with the decision; a token no longer waiting is not an error (a reminder replaced it,
        and the new token is relayed when it is stored)."""
        if not domain.awaits_resuming(new, old):
            return "nothing to resume"
        if self.callbacks.resume(new.task_token, domain.workflow_output(new)):
            return "resumed"
        logger.warning("task token no longer waiting", extra={"approval_id": new.approval_id})
        return "token superseded"
