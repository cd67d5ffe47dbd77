"""Approvals' use cases on in-memory fakes of their ports (no moto, no boto3): requests and reminders stored and mailed
once, a decision taken once, a second refused, and a superseded token resumed on the workflow's new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from approvals import domain
from approvals.emails import SignedDecisionLinks
from approvals.models import ApprovalCloseMessage, ApprovalRequestMessage
from approvals.service import ApprovalReactions, ApprovalsService, DecisionRelay
from shared.errors import NotFound
from shared.links import LinkClaim, Purpose, verify
from shared.mail import Email
from tests.support.fakes import FakeMailer
from tests.support.fakes_approvals import FakeApprovalRepository, FakeTaskCallbacks

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
APPROVAL_ID = "onboarding-app_1"


def request(kind: str = "request", token: str = "token-1", *approvers: str, **fields: Any) -> ApprovalRequestMessage:
    return ApprovalRequestMessage.model_validate(
        {
            "approval_id": APPROVAL_ID,
            "kind": kind,
            "task_token": token,
            "subject": "Partner application: Acme",
            "summary": [{"label": "Company", "value": "Acme"}],
            "approvers": list(approvers or ("first@example.com",)),
        }
        | fields
    )


class Setup:
    def __init__(self) -> None:
        self.repository = FakeApprovalRepository()
        self.mailer = FakeMailer()
        self.now = NOW
        self.workflow = FakeTaskCallbacks()  # the tasks waiting on tokens (a test says which: workflow.wait)
        self.requests = ApprovalReactions(
            self.repository,
            clock=lambda: self.now,
            mailer=self.mailer,
            links=SignedDecisionLinks(key=lambda: KEY, base_url="https://prm.example/", ttl_seconds=3600),
            workflow=self.workflow,
        )
        self.pages = ApprovalsService(self.repository, clock=lambda: self.now)

    def asks(self, message: ApprovalRequestMessage) -> str:
        """The workflow waits on the message's token and sends it (a first request, a reminder, a re-run's request)."""
        self.workflow.wait(message.task_token)
        return self.requests.register(message)


@pytest.fixture
def setup() -> Setup:
    return Setup()


def links_in(email: Email) -> dict[str, dict[str, str]]:
    """The decision links of an approval email: decision -> its query."""
    found = {}
    for line in email.text.splitlines():
        if "https://prm.example/approvals/" in line:
            query = {k: v[0] for k, v in parse_qs(urlsplit(line.split(": ", 1)[1]).query).items()}
            found[query["decision"]] = query
    return found


def test_a_request_is_stored_and_mailed_once_with_a_signed_link_per_decision(setup: Setup) -> None:
    assert setup.requests.register(request()) == "request sent"
    [email] = setup.mailer.sent
    assert email.to == ("first@example.com",) and email.subject == "Approval needed: Partner application: Acme"
    links = links_in(email)
    assert set(links) == {"approve", "reject"}
    approve = links["approve"]
    assert int(approve["expires"]) == int(NOW.timestamp()) + 3600
    claim = LinkClaim(APPROVAL_ID, "approve", approve["approver"], int(approve["expires"]), purpose=Purpose.APPROVAL)
    verify(KEY, claim, approve["signature"], now=int(NOW.timestamp()))  # raises if the link is not genuine
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.notified and stored.task_token == "token-1"

    assert setup.requests.register(request()) == "duplicate"  # the same delivery again
    assert len(setup.mailer.sent) == 1


REQUESTED_REMINDED_ESCALATED = [
    ("first@example.com", "Approval needed"),
    ("first@example.com", "Reminder"),
    ("first@example.com", "Escalated"),
    ("second@example.com", "Escalated"),
]


def sent(setup: Setup) -> list[tuple[str, str]]:
    """(first recipient, subject before its colon) of every email sent so far."""
    return [(e.to[0], e.subject.split(":")[0]) for e in setup.mailer.sent]


class BrokenMailer:
    """A mail port whose every send fails (SES down)."""

    def send(self, email: Email) -> str:
        raise ConnectionError("mail is down")


def test_a_request_stored_but_not_mailed_is_mailed_when_it_comes_again(setup: Setup) -> None:
    setup.requests.mailer = BrokenMailer()
    with pytest.raises(ConnectionError):
        setup.requests.register(request())
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and not stored.notified
    setup.requests.mailer = setup.mailer
    assert setup.requests.register(request()) == "notified on retry"
    assert [e.to for e in setup.mailer.sent] == [("first@example.com",)]
    assert setup.requests.register(request()) == "duplicate"


def test_a_reminder_replaces_the_token_and_an_escalation_adds_the_second_approver(setup: Setup) -> None:
    setup.asks(request())
    assert setup.asks(request("reminder", "token-2")) == "reminder sent"
    escalation = request("escalation", "token-3", "first@example.com", "second@example.com")
    assert setup.asks(escalation) == "escalation sent"
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and (stored.task_token, stored.token_version) == ("token-3", 3)
    assert stored.approvers == ["first@example.com", "second@example.com"]
    assert sent(setup) == REQUESTED_REMINDED_ESCALATED


def decide(setup: Setup, decision: str = "approve", approver: str = "first@example.com", **form: Any) -> Any:
    approval = setup.pages.approval_for_link(APPROVAL_ID, decision)
    return setup.pages.decide(
        approval, decision=decision, approver=approver, reason=form.get("reason"), amount=form.get("amount")
    )


def test_a_decision_is_taken_once_and_a_second_is_refused(setup: Setup) -> None:
    setup.requests.register(request("request", "token-1", "first@example.com", "second@example.com"))
    decided = decide(setup, "approve", reason="Strong fit")
    assert (decided.status, decided.decision, decided.decided_by, decided.reason) == (
        "decided",
        "approve",
        "first@example.com",
        "Strong fit",
    )
    with pytest.raises(domain.NoLongerPending) as again:
        decide(setup, "reject", "second@example.com", reason="No")
    assert again.value.code == "already_decided" and again.value.approval.decided_by == "first@example.com"
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.decision == "approve" and stored.reason == "Strong fit"


def test_two_approvers_racing_one_wins_and_the_other_sees_the_winner(setup: Setup) -> None:
    setup.requests.register(request("request", "token-1", "first@example.com", "second@example.com"))
    read_by_second = setup.pages.approval_for_link(APPROVAL_ID, "reject")  # both pages read it while pending
    decide(setup, "approve")
    with pytest.raises(domain.NoLongerPending) as lost:
        setup.pages.decide(read_by_second, decision="reject", approver="second@example.com", reason="No", amount=None)
    assert lost.value.approval.decision == "approve"  # the record as it stands, not the one read
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.decided_by == "first@example.com"


def test_links_of_an_unknown_approval_or_an_unoffered_decision_are_refused(setup: Setup) -> None:
    with pytest.raises(NotFound):
        setup.pages.approval_for_link("onboarding-app_none", "approve")
    setup.requests.register(request())
    with pytest.raises(domain.DecisionRefused) as refused:
        setup.pages.approval_for_link(APPROVAL_ID, "return")
    assert refused.value.code == "decision_not_allowed"
    with pytest.raises(domain.DecisionRefused) as stranger:
        decide(setup, "approve", "mallory@example.com")
    assert stranger.value.code == "not_an_approver"
    with pytest.raises(domain.DecisionRefused) as no_reason:
        decide(setup, "reject", reason="  ")
    assert no_reason.value.code == "reason_required"
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.status == "pending"


def test_an_amount_is_granted_exactly_as_typed(setup: Setup) -> None:
    setup.requests.register(
        request(
            decisions=["approve", "reject", "return"],
            amount={"currency": "USD", "max_minor": 500_000, "label": "Amount to grant"},
        )
    )
    with pytest.raises(domain.DecisionRefused) as refused:
        decide(setup, "approve", amount="5,000.01")
    assert refused.value.code == "amount_invalid" and "at most 5,000.00 USD" in refused.value.message
    assert decide(setup, "approve", amount="1,250.50").amount_minor == 125_050


def test_a_closed_approval_takes_no_decision(setup: Setup) -> None:
    setup.requests.register(request())
    close = ApprovalCloseMessage(approval_id=APPROVAL_ID, kind="close")
    assert setup.requests.close(close) == "closed"
    assert setup.requests.close(close) == "not pending"
    with pytest.raises(domain.NoLongerPending) as late:
        decide(setup)
    assert late.value.code == "closed"


def test_a_decision_resumes_the_workflow_once_and_a_superseded_token_resumes_on_the_new_one(setup: Setup) -> None:
    callbacks = FakeTaskCallbacks()
    relay = DecisionRelay(callbacks)
    setup.requests.register(request())
    callbacks.wait("token-1")
    pending = setup.repository.get(APPROVAL_ID)
    assert pending is not None
    assert relay.relay(pending, None) == "nothing to resume"

    # The reminder fired while the approver was deciding: the workflow now waits on token-2, not token-1.
    callbacks.wait("token-2")
    decided = decide(setup, "approve")
    assert relay.relay(decided, pending) == "token superseded"
    assert callbacks.resumed == []
    # The reminder's request lands on the decided approval: only its token is stored, nobody is mailed again.
    mails = len(setup.mailer.sent)
    assert setup.requests.register(request("reminder", "token-2")) == "token refreshed on a decided approval"
    assert len(setup.mailer.sent) == mails
    refreshed = setup.repository.get(APPROVAL_ID)
    assert refreshed is not None and refreshed.task_token == "token-2"
    assert relay.relay(refreshed, decided) == "resumed"
    assert callbacks.resumed == [("token-2", domain.workflow_output(refreshed))]
    assert (
        callbacks.resumed[0][1]["decision"] == "approved"
        and callbacks.resumed[0][1]["decided_by"] == "first@example.com"
    )
    # The same stream record again (or any later change of a decided approval on the same token) resumes nothing.
    assert relay.relay(refreshed, refreshed) == "nothing to resume"


def test_links_expire_a_fixed_time_after_the_mail(setup: Setup) -> None:
    setup.now = NOW + timedelta(hours=5)
    setup.requests.register(request())
    [email] = setup.mailer.sent
    assert int(links_in(email)["reject"]["expires"]) == int((NOW + timedelta(hours=6)).timestamp())


# ------------------------------------------------------------ a workflow run again asks again: no second email


class LogRecorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, message: str, *args: Any, extra: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.lines.append((message, extra or {}))


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> LogRecorder:
    from approvals import service

    recorder = LogRecorder()
    monkeypatch.setattr(service.logger, "info", recorder)
    return recorder


def test_a_rerun_workflows_request_adopts_its_token_without_mailing_again(setup: Setup, logged: LogRecorder) -> None:
    callbacks = setup.workflow
    relay = DecisionRelay(callbacks)
    assert setup.asks(request()) == "request sent"
    [first] = setup.mailer.sent

    # The execution was run again from its start (a restarted local stack, a restarted execution): same approval,
    # a request again, on the new run's token.
    assert setup.asks(request("request", "token-rerun")) == "token adopted"
    assert setup.mailer.sent == [first]
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and (stored.status, stored.task_token, stored.token_version) == (
        "pending",
        "token-rerun",
        2,
    )
    assert stored.notified
    [(line, extra)] = logged.lines
    assert "not mailed again" in line and extra["approval_id"] == APPROVAL_ID
    assert "token-rerun" not in repr(logged.lines)  # never a task token in a log
    assert setup.requests.register(request("request", "token-rerun")) == "duplicate"  # redelivered: still nothing

    # The link from the first (only) email decides, and the decision reaches the run that waits now.
    before = setup.repository.get(APPROVAL_ID)
    decided = decide(setup, "approve")
    assert relay.relay(decided, before) == "resumed"
    assert callbacks.resumed == [("token-rerun", domain.workflow_output(decided))]
    assert len(setup.mailer.sent) == 1


def test_after_a_rerun_the_reminder_and_escalation_still_mail(setup: Setup) -> None:
    setup.asks(request())
    setup.asks(request("request", "token-rerun"))
    assert setup.asks(request("reminder", "token-r")) == "reminder sent"
    escalation = request("escalation", "token-e", "first@example.com", "second@example.com")
    assert setup.asks(escalation) == "escalation sent"
    assert sent(setup) == REQUESTED_REMINDED_ESCALATED
    # A rerun after the escalation (its request names only the first approver) mails nobody; both links still work.
    assert setup.asks(request("request", "token-rerun-2")) == "token adopted"
    assert len(setup.mailer.sent) == 4
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.approvers == ["first@example.com", "second@example.com"]
    assert decide(setup, "approve", "second@example.com").decided_by == "second@example.com"


def test_a_rerun_naming_a_new_approver_mails_only_that_approver(setup: Setup) -> None:
    setup.asks(request())
    again = request("request", "token-rerun", "first@example.com", "third@example.com")
    assert setup.asks(again) == "token adopted; new approvers mailed"
    assert [(e.to, e.subject.split(":")[0]) for e in setup.mailer.sent] == [
        (("first@example.com",), "Approval needed"),
        (("third@example.com",), "Approval needed"),
    ]


def test_a_rerun_of_a_request_whose_mail_never_went_out_mails_it(setup: Setup) -> None:
    setup.requests.mailer = BrokenMailer()
    with pytest.raises(ConnectionError):
        setup.requests.register(request())
    setup.requests.mailer = setup.mailer
    assert setup.asks(request("request", "token-rerun")) == "request sent"
    assert [e.to for e in setup.mailer.sent] == [("first@example.com",)]
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.notified and stored.task_token == "token-rerun"


def test_a_decision_landing_during_the_token_swap_wins_and_the_rerun_hears_it(setup: Setup) -> None:
    """The swap is conditional on the approval still pending on the token read: a decision in between makes it
    re-read, and the new token is stored on the decided approval (the relay then resumes the new run)."""
    setup.requests.register(request())
    repository = setup.repository
    real_replace = repository.replace_token
    raced: list[bool] = []

    def decided_first(approval: Any, previous_token: str, previous_status: str) -> None:
        if not raced:
            raced.append(True)
            decide(setup, "reject", reason="Not a fit")  # the approver's POST lands between our read and write
        real_replace(approval, previous_token, previous_status)

    repository.replace_token = decided_first  # type: ignore[method-assign]
    assert setup.asks(request("request", "token-rerun")) == "token refreshed on a decided approval"
    stored = repository.get(APPROVAL_ID)
    assert stored is not None and (stored.status, stored.decision, stored.task_token) == (
        "decided",
        "reject",
        "token-rerun",
    )
    assert len(setup.mailer.sent) == 1


class MailerDownFor:
    """Sends fail for some recipients (SES down while the newcomer's mail goes out), the rest are delivered."""

    def __init__(self, delivered: FakeMailer, *down: str) -> None:
        self.delivered, self.down = delivered, set(down)

    def send(self, email: Email) -> str:
        if self.down & set(email.to):
            raise ConnectionError("mail is down")
        return self.delivered.send(email)


def test_a_rerun_newcomer_whose_mail_failed_is_mailed_once_on_redelivery(setup: Setup) -> None:
    setup.asks(request())
    again = request("request", "token-rerun", "first@example.com", "third@example.com")
    setup.requests.mailer = MailerDownFor(setup.mailer, "third@example.com")
    with pytest.raises(ConnectionError):
        setup.asks(again)
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and (stored.task_token, stored.notified) == ("token-rerun", False)
    assert stored.approvers == ["first@example.com", "third@example.com"]
    assert stored.mailed == ["first@example.com"]  # the swap is stored; the newcomer is still owed a mail

    setup.requests.mailer = setup.mailer  # SES is back; SQS delivers the message again
    assert setup.requests.register(again) == "notified on retry"
    assert setup.requests.register(again) == "duplicate"
    assert [(e.to, e.subject.split(":")[0]) for e in setup.mailer.sent] == [
        (("first@example.com",), "Approval needed"),
        (("third@example.com",), "Approval needed"),
    ]
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and stored.notified and stored.mailed == ["first@example.com", "third@example.com"]
    assert decide(setup, "approve", "third@example.com").decided_by == "third@example.com"


def test_a_record_from_before_the_mailed_list_mails_only_a_rerun_newcomer(setup: Setup) -> None:
    setup.asks(request())
    stored = setup.repository.items[APPROVAL_ID]
    setup.repository.items[APPROVAL_ID] = stored.model_copy(update={"mailed": None})  # as stored before the list
    again = request("request", "token-rerun", "first@example.com", "third@example.com")
    assert setup.asks(again) == "token adopted; new approvers mailed"
    assert [e.to for e in setup.mailer.sent] == [("first@example.com",), ("third@example.com",)]


def test_a_late_request_from_the_stopped_run_is_ignored_after_the_rerun_adopted(
    setup: Setup, logged: LogRecorder
) -> None:
    relay = DecisionRelay(setup.workflow)
    assert setup.asks(request()) == "request sent"
    assert setup.workflow.asked == []  # a first request asks nobody whether its task waits
    setup.workflow.stop()  # the first run is stopped, and run again: its request adopts the token
    assert setup.asks(request("request", "token-rerun")) == "token adopted"
    assert setup.workflow.asked == ["token-rerun"]
    writes, logged.lines[:] = setup.repository.writes, []

    # SQS delivers the first run's request (or a reminder it sent) once more, late: its task waits no more.
    for late in (request(), request("reminder", "token-old-reminder")):
        assert setup.requests.register(late) == "ignored: its task no longer waits"
    assert setup.repository.writes == writes and len(setup.mailer.sent) == 1
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and (stored.status, stored.task_token, stored.token_version) == (
        "pending",
        "token-rerun",
        2,
    )
    assert [line for line, _ in logged.lines] == ["approval request on a task token that no longer waits: ignored"] * 2
    assert "token-1" not in repr(logged.lines)  # never a task token in a log
    assert setup.requests.register(request("request", "token-rerun")) == "duplicate"  # the live run's, again

    before = setup.repository.get(APPROVAL_ID)
    decided = decide(setup, "approve")
    assert relay.relay(decided, before) == "resumed"
    assert setup.workflow.resumed == [("token-rerun", domain.workflow_output(decided))]


def test_a_request_whose_run_stopped_before_it_arrived_is_not_adopted_even_unmailed(setup: Setup) -> None:
    """A token from a run that waits no more is not taken, even for an approval whose first mail never went out."""
    setup.requests.mailer = BrokenMailer()
    with pytest.raises(ConnectionError):
        setup.asks(request())
    setup.workflow.stop()
    setup.requests.mailer = setup.mailer
    assert setup.requests.register(request("request", "token-dead")) == "ignored: its task no longer waits"
    assert setup.mailer.sent == []
    stored = setup.repository.get(APPROVAL_ID)
    assert stored is not None and (stored.task_token, stored.notified) == ("token-1", False)
