"""Onboarding's use cases on in-memory fakes of their ports (no moto, no boto3): an application submitted, confirmed
and decided; the domain claimed at confirmation; every email, invitation and workflow start done once; a replay of
every event changing nothing."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from contracts.onboarding import (
    PartnerApplicationConfirmed,
    PartnerApplicationExpired,
    PartnerApplicationRejected,
    PartnerApplicationSubmitted,
    PartnerUserInvited,
    PartnerUserRemoved,
)
from onboarding import confirmation, domain
from onboarding.confirmation import SignedConfirmationLinks
from onboarding.models import (
    AgreementRequest,
    Application,
    ApplicationConfirmationDue,
    ApplicationDecision,
    ApplicationRequest,
    InviteUserRequest,
    RemoveUserRequest,
    TierChange,
)
from onboarding.service import OnboardingReactions
from onboarding.workflow import ApprovalRoute, OnboardingWorkflows
from shared.clock import iso
from shared.errors import Conflict, Forbidden, NotFound, NotYetDue, Unavailable
from shared.principal import Principal
from tests.support.events import validate
from tests.support.factories import application_body, unique_domain
from tests.support.fakes import FakeMailer, FakeSideEffects, FakeTimers, FakeWorkflows
from tests.support.fakes_onboarding import FakeOnboardingRepository, FakeUserDirectory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:onboarding"
ROUTE = ApprovalRoute(
    approver="approver@example.com",
    escalation="head@example.com",
    reminder_seconds=60,
    escalation_seconds=120,
    expiry_seconds=180,
)
VENDOR = Principal(
    sub="vendor-1", email="channel@example.com", name="", partner_id=None, groups=frozenset({"vendor-admin"})
)


class Onboarding:
    """The service wired to fakes, and the consumer's dispatch of onboarding's own events."""

    def __init__(self) -> None:
        self.now = NOW
        self.repository = FakeOnboardingRepository()
        self.mailer = FakeMailer()
        self.effects = FakeSideEffects()
        self.identity = FakeUserDirectory()
        self.starts = FakeWorkflows()
        self.timers = FakeTimers()
        self.service = OnboardingReactions(
            self.repository,
            clock=lambda: self.now,
            confirm_within=timedelta(days=2),
            mailer=self.mailer,
            effects=self.effects,
            identity=self.identity,
            workflows=OnboardingWorkflows(
                starter=self.starts, timers=self.timers, state_machine_arn=MACHINE, route=ROUTE
            ),
            links=SignedConfirmationLinks(key=lambda: KEY, base_url="https://api.example/prod/"),
            portal_url="https://portal.example",
        )
        self.delivered = 0

    def submit(self, domain: str | None = None, **changes: Any) -> Application:
        return self.service.submit_application(ApplicationRequest.model_validate(application_body(domain, **changes)))

    def react(self, event: Any) -> str | None:
        """What onboarding's consumer does with one of its events; None for events it does not subscribe to."""
        match event:
            case PartnerApplicationSubmitted():
                return self.service.request_confirmation(event.application_id)
            case PartnerApplicationConfirmed():
                return self.service.put_before_approver(event.application_id)
            case PartnerApplicationRejected():
                return self.service.tell_rejection(event.application_id, event.reason)
            case PartnerApplicationExpired():
                return self.service.tell_expiry(event.application_id)
            case PartnerUserInvited():
                return self.service.send_invitation(event)
            case PartnerUserRemoved():
                return self.service.revoke_access(event)
        return None

    def flush(self) -> list[str]:
        """Deliver the events published since the last flush to the consumer, as the bus and queue would."""
        outcomes = [self.react(e) for e in self.repository.outbox[self.delivered :]]
        self.delivered = len(self.repository.outbox)
        return [outcome for outcome in outcomes if outcome is not None]

    def decide(self, application_id: str, decision: str = "approved", reason: str | None = None) -> str:
        message = ApplicationDecision(
            message_type="ApplicationDecision",
            application_id=application_id,
            decision=decision,  # type: ignore[arg-type]
            decided_by="approver@example.com",
            reason=reason,
            decided_at=self.now,
        )
        return self.service.apply_decision(message)

    def mail_to(self, address: str) -> list[Any]:
        return self.mailer.to(address)


@pytest.fixture
def onboarding() -> Onboarding:
    return Onboarding()


def confirmation_query(onboarding: Onboarding, address: str) -> tuple[str, dict[str, str]]:
    [email] = [m for m in onboarding.mail_to(address) if "data-confirmation-link" in m.html]
    found = re.search(r'href="([^"]+)" data-confirmation-link', email.html)
    assert found
    url = urlsplit(html.unescape(found.group(1)))
    return url.path.split("/")[-2], dict(parse_qsl(url.query))


# ------------------------------------------------------------------ submit and confirm


def test_a_submission_waits_for_its_address_to_be_confirmed_and_asks_once(onboarding: Onboarding) -> None:
    application = onboarding.submit()
    assert application.status == "unconfirmed" and application.confirm_by == NOW + timedelta(days=2)
    assert onboarding.flush() == ["confirmation requested"]
    address = str(application.contact.email)
    application_id, query = confirmation_query(onboarding, address)
    assert application_id == application.application_id
    claim = confirmation.check(KEY, application_id, query, now=int(NOW.timestamp()))  # a genuine, unexpired link
    assert claim.approver == address and claim.expires == int(application.confirm_by.timestamp())  # type: ignore[union-attr]
    assert onboarding.timers.messages() == [
        {
            "message_type": "ApplicationConfirmationDue",
            "application_id": application.application_id,
            "due_at": iso(NOW + timedelta(days=2)),
        }
    ]
    assert [due for due, _ in onboarding.timers.scheduled.values()] == [iso(NOW + timedelta(days=2))]
    # the same event again: no second email, no second timer
    assert onboarding.react(onboarding.repository.outbox[0]) == "confirmation-email: already done"
    assert len(onboarding.mail_to(address)) == 1 and len(onboarding.timers.scheduled) == 1
    # and a second application from the same address is refused while the first waits (one email per address)
    with pytest.raises(Conflict) as refused:
        onboarding.submit(contact_email=address)
    assert refused.value.code == "confirmation_pending"


def test_the_domain_is_claimed_at_confirmation_and_the_first_confirmed_application_wins(
    onboarding: Onboarding,
) -> None:
    domain = unique_domain("victim")
    squatter = onboarding.submit(domain, contact_email="mallory@evil.example")
    real = onboarding.submit(domain, company_name="Victim Ltd")  # an unconfirmed application blocks nobody
    assert domain not in onboarding.repository.domains
    onboarding.flush()

    confirmed = onboarding.service.confirm_application(real.application_id)
    assert confirmed.status == "pending" and onboarding.repository.domains[domain].application_id == real.application_id
    with pytest.raises(Conflict) as refused:
        onboarding.submit(domain, contact_email=f"bob@{domain}")
    assert refused.value.code == "duplicate_application"

    closed = onboarding.service.confirm_application(squatter.application_id)
    assert (closed.status, closed.closed_because, closed.decided_by) == ("rejected", "domain_taken", "system")
    assert onboarding.service.confirm_application(squatter.application_id) == closed  # again: the same answer
    assert onboarding.repository.domains[domain].application_id == real.application_id  # the winner is untouched
    onboarding.flush()
    [told] = [m for m in onboarding.mail_to("mallory@evil.example") if "closed this application" in m.html]
    assert "already has a partner application in progress" in told.text
    # the closed application released its address
    assert onboarding.submit(contact_email="mallory@evil.example").status == "unconfirmed"


def test_a_confirmed_application_reaches_the_approver_once_with_one_receipt(onboarding: Onboarding) -> None:
    application = onboarding.submit()
    onboarding.flush()
    onboarding.service.confirm_application(application.application_id)
    [started] = onboarding.flush()
    assert started == f"arn:fake:execution:{MACHINE}:{application.application_id}"
    payload = onboarding.starts.started[MACHINE, application.application_id]
    assert payload["approval_id"] == f"onboarding-{application.application_id}"
    assert payload["approvers"] == {
        "initial": ["approver@example.com"],
        "escalation": ["approver@example.com", "head@example.com"],
    }
    assert payload["timeouts"] == {"reminder_seconds": 60, "escalation_seconds": 120, "expiry_seconds": 180}
    assert {"label": "Expected annual revenue", "value": "250,000.00 GBP"} in payload["summary"]
    receipts = [m for m in onboarding.mail_to(str(application.contact.email)) if m.subject.startswith("We received")]
    assert len(receipts) == 1
    confirmed_event = onboarding.repository.events("PartnerApplicationConfirmed")[0]
    assert onboarding.react(confirmed_event) == "already started"
    assert len([m for m in onboarding.mailer.sent if m.subject.startswith("We received")]) == 1


def test_an_unconfirmed_application_never_reaches_the_approver(onboarding: Onboarding) -> None:
    application = onboarding.submit()
    assert onboarding.service.put_before_approver(application.application_id) == (
        "no approval started: application is unconfirmed"
    )
    assert onboarding.decide(application.application_id) == "already unconfirmed"
    assert onboarding.starts.started == {}


# ------------------------------------------------------------------ decisions


def approved(onboarding: Onboarding, domain: str | None = None) -> Application:
    application = onboarding.submit(domain)
    onboarding.flush()
    onboarding.service.confirm_application(application.application_id)
    onboarding.flush()
    assert onboarding.decide(application.application_id) == "approved"
    return application


def test_approval_makes_a_partner_and_invites_its_first_admin_once(onboarding: Onboarding) -> None:
    application = approved(onboarding)
    partner = onboarding.repository.get_partner(application.partner_id)
    assert partner is not None and partner.tier == "Registered" and partner.status == "active"
    address = str(application.contact.email)
    assert onboarding.flush() == ["invited"]
    account = onboarding.identity.accounts[address]
    assert (account.partner_id, account.role) == (application.partner_id, "partner-admin")
    [invitation] = [m for m in onboarding.mail_to(address) if "data-temporary-password" in m.html]
    assert account.password in invitation.html and "Acme Networks" in invitation.html
    [user] = onboarding.repository.list_users(application.partner_id)
    assert user.invitation_sent_at == NOW and user.status == "invited"

    invited = onboarding.repository.events("PartnerUserInvited")[0]
    assert onboarding.react(invited) == f"invitation:{invited.invitation_id}: already done"
    assert onboarding.identity.passwords_issued == 1  # the temporary password that went out still works
    # the same decision again, or a late contrary one, changes nothing
    assert onboarding.decide(application.application_id) == "already approved"
    assert onboarding.decide(application.application_id, "rejected", "late") == "already approved"


def test_a_rejection_frees_the_domain_and_tells_the_applicant_once(onboarding: Onboarding) -> None:
    domain = unique_domain("org", "org")
    application = onboarding.submit(domain)
    onboarding.flush()
    onboarding.service.confirm_application(application.application_id)
    onboarding.flush()
    assert onboarding.decide(application.application_id, "rejected", "Outside our territories") == "rejected"
    assert domain not in onboarding.repository.domains
    onboarding.flush()
    told = [m for m in onboarding.mail_to(f"ada@{domain}") if "Outside our territories" in m.html]
    assert len(told) == 1
    assert onboarding.submit(domain, company_name="Acme Again").status == "unconfirmed"


def test_an_unconfirmed_application_lapses_at_its_deadline_and_nobody_is_emailed(onboarding: Onboarding) -> None:
    domain = unique_domain("lapsed")
    application = onboarding.submit(domain)
    onboarding.flush()
    mails = len(onboarding.mailer.sent)
    due = ApplicationConfirmationDue(
        message_type="ApplicationConfirmationDue",
        application_id=application.application_id,
        due_at=application.confirm_by,  # type: ignore[arg-type]
    )
    with pytest.raises(NotYetDue):  # early (clock skew): comes again, changes nothing
        onboarding.service.confirmation_due(due)
    assert onboarding.repository.applications[application.application_id].status == "unconfirmed"
    onboarding.now = NOW + timedelta(days=2)
    assert onboarding.service.confirmation_due(due) == "expired"
    [lapsed] = onboarding.repository.events("PartnerApplicationExpired")
    assert lapsed.cause == "not_confirmed"
    assert onboarding.flush() == ["lapsed unconfirmed: nobody to tell (the address was never confirmed)"]
    assert len(onboarding.mailer.sent) == mails
    assert onboarding.service.confirmation_due(due) == "confirmation deadline passed: application is expired"
    assert onboarding.submit(domain, company_name="Acme, for real").status == "unconfirmed"


def test_a_confirmation_that_commits_after_the_timer_read_is_not_expired(onboarding: Onboarding) -> None:
    application = onboarding.submit()
    seen_by_timer = onboarding.repository.get_application(application.application_id)
    onboarding.service.confirm_application(application.application_id)
    onboarding.now = NOW + timedelta(days=3)
    onboarding.repository.get_application = lambda _id: seen_by_timer  # type: ignore[method-assign]
    due = ApplicationConfirmationDue(
        message_type="ApplicationConfirmationDue", application_id=application.application_id, due_at=NOW
    )
    assert onboarding.service.confirmation_due(due) == "already decided"
    assert onboarding.repository.applications[application.application_id].status == "pending"


def test_an_undecided_application_expires_and_the_applicant_is_told_once(onboarding: Onboarding) -> None:
    application = onboarding.submit()
    onboarding.flush()
    assert onboarding.service.expire_application(application.application_id, expected="pending") == "already decided"
    onboarding.service.confirm_application(application.application_id)
    onboarding.flush()
    assert onboarding.service.expire_application(application.application_id, expected="pending") == "expired"
    assert onboarding.flush() == ["message-3"]  # confirmation, receipt, then this lapse
    assert onboarding.mailer.sent[-1].subject.endswith("has lapsed")


# ------------------------------------------------------------------ replays


def test_replaying_every_event_repeats_no_side_effect(onboarding: Onboarding) -> None:
    """The bus archive can replay events after the consumers' de-duplication records expired: every reaction checks
    the current state, and does its side effect once per entity."""
    partner = approved(onboarding)
    onboarding.flush()
    admin = Principal(
        sub="sub-admin",
        email=str(partner.contact.email),
        name="Ada",
        partner_id=partner.partner_id,
        groups=frozenset({"partner-admin"}),
    )
    colleague = InviteUserRequest(email=f"grace@{partner.domain}", name="Grace Hopper", role="partner-user")
    onboarding.service.invite_user(admin, partner.partner_id, colleague)
    rejected = onboarding.submit()
    onboarding.flush()
    onboarding.service.confirm_application(rejected.application_id)
    onboarding.flush()
    onboarding.decide(rejected.application_id, "rejected", "Not now")
    lapsed = onboarding.submit()
    onboarding.flush()
    onboarding.now = NOW + timedelta(days=3)
    onboarding.service.confirmation_due(
        ApplicationConfirmationDue(
            message_type="ApplicationConfirmationDue", application_id=lapsed.application_id, due_at=NOW
        )
    )
    onboarding.flush()
    published = {type(e).__name__ for e in onboarding.repository.outbox}
    assert published >= {
        "PartnerApplicationSubmitted",
        "PartnerApplicationConfirmed",
        "PartnerApplicationRejected",
        "PartnerApplicationExpired",
        "PartnerOnboarded",
        "PartnerUserInvited",
    }
    assert onboarding.identity.passwords_issued == 2 and len(onboarding.starts.started) == 2

    def state() -> Any:
        return (
            onboarding.repository.snapshot(),
            list(onboarding.mailer.sent),
            {email: account.password for email, account in onboarding.identity.accounts.items()},
            dict(onboarding.starts.started),
            dict(onboarding.timers.scheduled),
        )

    before = state()
    outcomes = [onboarding.react(event) for event in list(onboarding.repository.outbox)]
    assert state() == before, outcomes
    assert len([o for o in outcomes if o is not None]) >= 9  # every event onboarding consumes came again


def test_records_marked_before_the_ledger_are_not_repeated(onboarding: Onboarding) -> None:
    """Applications and users stored before the side-effect ledger carry markers instead of ledger entries."""
    application = onboarding.submit()
    stored = onboarding.repository.applications[application.application_id]
    onboarding.repository.applications[application.application_id] = stored.model_copy(
        update={"confirmation_sent_at": NOW}
    )
    assert onboarding.flush() == ["no confirmation email: application is unconfirmed"]
    assert onboarding.mailer.sent == [] and onboarding.timers.scheduled == {}

    approved_application = approved(onboarding)
    key = (approved_application.partner_id, str(approved_application.contact.email))
    user = onboarding.repository.users[key]
    onboarding.repository.users[key] = user.model_copy(
        update={"invitation_sent_for": user.invitation_id, "invitation_sent_at": NOW}
    )
    assert onboarding.flush() == ["invitation already sent"]
    assert onboarding.identity.passwords_issued == 0


def test_an_invitation_to_an_account_in_use_resets_nothing(onboarding: Onboarding) -> None:
    application = approved(onboarding)
    address = str(application.contact.email)
    onboarding.identity.invite(email=address, name="Ada", partner_id="prt_other", role="partner-user")
    onboarding.identity.sign_in(address)
    password = onboarding.identity.accounts[address].password
    assert onboarding.flush() == ["account already in use; no invitation sent"]
    assert onboarding.identity.accounts[address].password == password
    assert [m for m in onboarding.mail_to(address) if "data-temporary-password" in m.html] == []


# ------------------------------------------------------------------ users and agreements


def test_a_partner_admin_invites_a_colleague_once(onboarding: Onboarding) -> None:
    application = approved(onboarding)
    onboarding.flush()
    admin = Principal(
        sub="sub-admin",
        email=str(application.contact.email),
        name="Ada",
        partner_id=application.partner_id,
        groups=frozenset({"partner-admin"}),
    )
    colleague = InviteUserRequest(email=f"Grace@{application.domain}", name="Grace Hopper", role="partner-user")
    user = onboarding.service.invite_user(admin, application.partner_id, colleague)
    assert user.status == "invited" and user.email == f"grace@{application.domain}"
    assert onboarding.service.invite_user(admin, application.partner_id, colleague) == user  # a retry
    other = InviteUserRequest(email=str(application.contact.email), name="Dup", role="partner-user")
    with pytest.raises(Conflict) as refused:
        onboarding.service.invite_user(admin, application.partner_id, other)
    assert refused.value.code == "user_exists" and refused.value.errors[0].field == "email"
    assert onboarding.flush() == ["invited"]
    assert len(onboarding.mail_to(f"grace@{application.domain}")) == 1


def test_the_newest_agreement_stays_current_and_acceptance_is_recorded_once(onboarding: Onboarding) -> None:
    newer = onboarding.service.publish_agreement(VENDOR, AgreementRequest(version="v2", title="Terms", body="New."))
    onboarding.now = NOW - timedelta(seconds=5)
    with pytest.raises(Conflict) as refused:
        onboarding.service.publish_agreement(VENDOR, AgreementRequest(version="v1", title="Terms", body="Old."))
    assert "newer agreement" in refused.value.message
    assert onboarding.service.current_agreement() == newer and "v1" not in onboarding.repository.agreements
    onboarding.now = NOW
    application = approved(onboarding)
    me = Principal(
        sub="sub-ada",
        email=str(application.contact.email),
        name="Ada",
        partner_id=application.partner_id,
        groups=frozenset({"partner-admin"}),
    )
    assert onboarding.service.me(me)["agreement"] == {
        "required": True,
        "current_version": "v2",
        "accepted_version": None,
    }
    with pytest.raises(Conflict) as mismatch:
        onboarding.service.accept_agreement(me, "v1")
    assert mismatch.value.code == "agreement_version_mismatch"
    accepted = onboarding.service.accept_agreement(me, "v2")
    assert onboarding.service.accept_agreement(me, "v2") == accepted  # again: the first acceptance
    assert len(onboarding.repository.events("PartnerAgreementAccepted")) == 1
    assert onboarding.service.me(me)["agreement"]["required"] is False
    [user] = onboarding.repository.list_users(application.partner_id)
    assert user.status == "active"


# ------------------------------------------------------------------ removing partner users
def partner_admin(application: Application, email: str | None = None, sub: str = "sub-admin") -> Principal:
    return Principal(
        sub=sub,
        email=email or str(application.contact.email),
        name="Admin",
        partner_id=application.partner_id,
        groups=frozenset({"partner-admin"}),
    )


def with_colleague(
    onboarding: Onboarding, role: str = "partner-user", name: str = "grace", *, sent: bool = True
) -> tuple[Application, str]:
    """An onboarded partner whose admin invited a colleague; every invitation went out (accounts exist), or with
    `sent=False` this one is not delivered yet (no account, no email)."""
    application = approved(onboarding)
    if not sent:
        onboarding.flush()
    address = f"{name}@{application.domain}"
    onboarding.service.invite_user(
        partner_admin(application),
        application.partner_id,
        InviteUserRequest(email=address, name=name.title(), role=role),  # type: ignore[arg-type]
    )
    if sent:
        onboarding.flush()
    return application, address


def removal(email: str, reason: str = "removed") -> RemoveUserRequest:
    return RemoveUserRequest.model_validate({"email": email, "reason": reason})


def test_a_partner_admin_removes_a_colleague_who_loses_access_once(onboarding: Onboarding) -> None:
    application, grace = with_colleague(onboarding)
    admin = partner_admin(application)
    onboarding.now = NOW + timedelta(hours=1)
    removed = onboarding.service.remove_user(admin, application.partner_id, removal(grace.upper(), "disabled"))
    assert (removed.status, removed.removed_by, removed.removed_at, removed.removal_reason) == (
        "removed",
        admin.email,
        NOW + timedelta(hours=1),
        "disabled",
    )
    [event] = onboarding.repository.events("PartnerUserRemoved")
    assert (event.partner_id, event.user_email, event.removed_by, event.reason) == (
        application.partner_id,
        grace,
        admin.email,
        "disabled",
    )
    validate(  # the contract: as the bus delivers it, against the checked-in schema
        {
            "version": "0",
            "id": event.event_id,
            "detail-type": event.DETAIL_TYPE,
            "source": event.SOURCE,
            "time": "2026-11-26T13:00:00Z",
            "detail": event.to_json_dict(),
        }
    )
    account = onboarding.identity.accounts[grace]
    assert not account.enabled and account.sign_outs == 1
    # the same request again (or another reason) answers the removal as recorded: no second event
    onboarding.now = NOW + timedelta(hours=2)
    assert onboarding.service.remove_user(admin, application.partner_id, removal(grace)) == removed
    assert len(onboarding.repository.events("PartnerUserRemoved")) == 1
    listed = {u.email: u.status for u in onboarding.service.list_users(admin, application.partner_id)}
    assert listed == {str(application.contact.email): "invited", grace: "removed"}
    # the consumer of the event finds the user removed and revokes again (repeatable), a replay too
    assert onboarding.react(event) == "access revoked"
    assert onboarding.react(event) == "access revoked" and not onboarding.identity.accounts[grace].enabled


def test_removal_is_refused_for_oneself_the_last_admin_strangers_and_non_admins(onboarding: Onboarding) -> None:
    application, grace = with_colleague(onboarding)
    admin = partner_admin(application)
    before = onboarding.repository.snapshot()
    with pytest.raises(Conflict) as itself:
        onboarding.service.remove_user(admin, application.partner_id, removal(admin.email))
    assert itself.value.code == "cannot_remove_self"
    with pytest.raises(Conflict) as last:
        onboarding.service.remove_user(VENDOR, application.partner_id, removal(admin.email))
    assert last.value.code == "last_partner_admin" and last.value.errors[0].field == "email"
    with pytest.raises(NotFound) as unknown:
        onboarding.service.remove_user(admin, application.partner_id, removal(f"nobody@{application.domain}"))
    assert unknown.value.code == "user_not_found"
    other = approved(onboarding)
    onboarding.flush()
    stranger = partner_admin(other)
    with pytest.raises(NotFound):  # another organisation: its users do not exist for this admin
        onboarding.service.remove_user(stranger, application.partner_id, removal(grace))
    with pytest.raises(NotFound):  # nor may its admin remove them through their own organisation
        onboarding.service.remove_user(stranger, other.partner_id, removal(grace))
    colleague = Principal(
        sub="sub-grace", email=grace, name="", partner_id=application.partner_id, groups=frozenset({"partner-user"})
    )
    with pytest.raises(Forbidden):
        onboarding.service.remove_user(colleague, application.partner_id, removal(str(application.contact.email)))
    after = onboarding.repository.snapshot()
    assert onboarding.repository.events("PartnerUserRemoved") == []
    assert before["users"] == {k: v for k, v in after["users"].items() if k in before["users"]}  # nobody changed
    assert onboarding.identity.accounts[grace].enabled
    assert onboarding.identity.accounts[admin.email].enabled


def test_a_vendor_admin_removes_an_admin_while_another_remains(onboarding: Onboarding) -> None:
    application, bob = with_colleague(onboarding, role="partner-admin", name="bob")
    removed = onboarding.service.remove_user(VENDOR, application.partner_id, removal(bob))
    assert removed.status == "removed" and removed.removed_by == VENDOR.email
    with pytest.raises(Conflict) as last:  # now the first admin is the last one
        onboarding.service.remove_user(VENDOR, application.partner_id, removal(str(application.contact.email)))
    assert last.value.code == "last_partner_admin"


def test_two_admins_removing_each_other_at_once_leave_one(onboarding: Onboarding) -> None:
    """Bob's removal of Ada commits between Ada's reads and her write: her write checks Bob is still an admin, loses,
    reads again and finds Bob is now the last admin."""
    application, bob = with_colleague(onboarding, role="partner-admin", name="bob")
    ada = partner_admin(application)
    record = onboarding.repository.record_removal
    raced = []

    def bob_first(*args: Any, **kwargs: Any) -> None:
        if not raced:
            raced.append(True)
            onboarding.service.remove_user(
                partner_admin(application, email=bob, sub="sub-bob"), application.partner_id, removal(ada.email)
            )
        record(*args, **kwargs)

    onboarding.repository.record_removal = bob_first  # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        onboarding.service.remove_user(ada, application.partner_id, removal(bob))
    assert refused.value.code == "last_partner_admin"
    statuses = {u.email: u.status for u in onboarding.repository.list_users(application.partner_id)}
    assert statuses == {ada.email: "removed", bob: "invited"}
    assert [e.user_email for e in onboarding.repository.events("PartnerUserRemoved")] == [ada.email]


def test_a_pool_failure_after_the_write_is_finished_by_a_repeat_or_by_the_event(onboarding: Onboarding) -> None:
    application, grace = with_colleague(onboarding)
    admin = partner_admin(application)
    hedy = f"hedy@{application.domain}"
    onboarding.service.invite_user(
        admin, application.partner_id, InviteUserRequest(email=hedy, name="Hedy", role="partner-user")
    )
    onboarding.flush()
    onboarding.identity.failing = True
    for address in (grace, hedy):
        with pytest.raises(Unavailable) as failed:
            onboarding.service.remove_user(admin, application.partner_id, removal(address))
        assert failed.value.code == "revocation_pending" and address in failed.value.message
        assert onboarding.repository.get_user(application.partner_id, address).status == "removed"  # type: ignore[union-attr]
        assert onboarding.identity.accounts[address].enabled  # not yet
    onboarding.identity.failing = False
    again = onboarding.service.remove_user(admin, application.partner_id, removal(grace))  # the client's repeat
    assert again.status == "removed" and not onboarding.identity.accounts[grace].enabled
    [_, hedy_removed] = onboarding.repository.events("PartnerUserRemoved")  # one event each, none for the repeat
    assert onboarding.react(hedy_removed) == "access revoked"  # the outbox's event, whatever the client does
    assert not onboarding.identity.accounts[hedy].enabled


def test_a_removed_user_is_not_invited_back_here_or_elsewhere(onboarding: Onboarding) -> None:
    application, grace = with_colleague(onboarding)
    admin = partner_admin(application)
    onboarding.service.remove_user(admin, application.partner_id, removal(grace))
    same = InviteUserRequest(email=grace, name="Grace", role="partner-user")
    with pytest.raises(Conflict) as here:
        onboarding.service.invite_user(admin, application.partner_id, same)
    assert here.value.code == "user_removed" and here.value.errors[0].field == "email"
    with pytest.raises(Conflict) as replayed:  # nor is a replayed answer of her first invitation let through
        onboarding.service.replayed_invitation(application.partner_id, same)
    assert replayed.value.code == "user_removed"
    onboarding.service.replayed_invitation(
        application.partner_id,
        InviteUserRequest(email=str(application.contact.email), name="Ada", role="partner-admin"),
    )
    other = approved(onboarding)
    onboarding.flush()
    with pytest.raises(Conflict) as elsewhere:
        onboarding.service.invite_user(partner_admin(other), other.partner_id, same)
    assert elsewhere.value.code == "user_exists"
    assert not onboarding.identity.accounts[grace].enabled


def test_a_user_removed_before_their_invitation_went_out_gets_no_account(onboarding: Onboarding) -> None:
    application, address = with_colleague(onboarding, name="late", sent=False)
    admin = partner_admin(application)
    removed = onboarding.service.remove_user(admin, application.partner_id, removal(address))
    assert removed.status == "removed" and address not in onboarding.identity.accounts
    assert onboarding.flush() == [
        "no invitation: the user is not (or no longer) waiting for one",
        "no account to revoke (never invited)",
    ]
    assert address not in onboarding.identity.accounts and onboarding.mail_to(address) == []


def test_a_user_removed_while_their_account_is_made_gets_it_disabled_and_no_email(onboarding: Onboarding) -> None:
    application, address = with_colleague(onboarding, name="racing", sent=False)
    admin = partner_admin(application)
    create = onboarding.identity.invite

    def removed_meanwhile(**kwargs: Any) -> str | None:
        password = create(**kwargs)
        onboarding.identity.failing = True  # the removal's own revocation fails: only the invitation can catch it
        with pytest.raises(Unavailable):
            onboarding.service.remove_user(admin, application.partner_id, removal(address))
        onboarding.identity.failing = False
        return password

    onboarding.identity.invite = removed_meanwhile  # type: ignore[method-assign]
    [invited] = [e for e in onboarding.repository.events("PartnerUserInvited") if e.email == address]
    assert onboarding.service.send_invitation(invited) == "removed meanwhile: account disabled, no invitation sent"
    assert not onboarding.identity.accounts[address].enabled and onboarding.mail_to(address) == []


# ------------------------------------------------------------------ the partner's tier on its profile
def test_the_profile_shows_the_newest_tier_and_ignores_late_or_repeated_changes(onboarding: Onboarding) -> None:
    application = approved(onboarding)
    gold = TierChange(application.partner_id, "gold", "Gold", NOW + timedelta(days=60), "evt_2")
    silver = TierChange(application.partner_id, "silver", "Silver", NOW + timedelta(days=30), "evt_1")
    assert onboarding.service.show_tier(gold) == "tier gold shown"
    assert onboarding.service.show_tier(silver) == "older or repeated tier change"
    assert onboarding.service.show_tier(gold) == "older or repeated tier change"
    profile = onboarding.service.get_partner(VENDOR, application.partner_id)
    assert (profile.tier, profile.tier_id, profile.tier_since, profile.revision) == (
        "Gold",
        "gold",
        NOW + timedelta(days=60),
        1,
    )
    stale = domain.apply_tier(profile.model_copy(update={"tier_order": None}), silver)
    assert stale is not None and not onboarding.repository.record_tier(stale)  # the write's own condition holds
    unknown = TierChange("prt_nobody", "gold", "Gold", NOW, "evt_3")
    assert onboarding.service.show_tier(unknown) == "no such partner: no profile to show the tier on"
