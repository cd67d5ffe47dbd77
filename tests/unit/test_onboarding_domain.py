"""Onboarding rules without AWS: applications, decisions, access, agreements, invitations."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from onboarding import domain
from onboarding.models import (
    Agreement,
    Application,
    ApplicationRequest,
    InviteUserRequest,
    Partner,
    PartnerUpdateRequest,
    PartnerUser,
    RemoveUserRequest,
    TierChange,
)
from shared.errors import Conflict, Forbidden, NotFound
from shared.principal import Principal

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
_counter = itertools.count()


def ids(prefix: str) -> str:
    return f"{prefix}_{next(_counter)}"


def application_body(**changes: Any) -> dict[str, Any]:
    body = {
        "company_name": "Acme Networks",
        "website": "https://www.Sales.Acme.co.uk/about",
        "country": "gb",
        "partner_type": "reseller",
        "contact_name": "Ada Lovelace",
        "contact_email": "Ada@Acme.co.uk",
        "expected_annual_revenue": {"amount_minor": 25_000_000, "currency": "GBP"},
    }
    return body | changes


def principal(partner_id: str | None = "prt_1", *groups: str) -> Principal:
    return Principal(
        sub="sub-1",
        email="ada@acme.co.uk",
        name="Ada",
        partner_id=partner_id,
        groups=frozenset(groups or ("partner-admin",)),
    )


def test_new_application_normalises_domain_country_and_email() -> None:
    application, event = domain.new_application(
        ApplicationRequest.model_validate(application_body()).applicant(),
        now=NOW,
        new_id=ids,
        confirm_within=timedelta(days=2),
    )
    assert application.domain == "acme.co.uk"
    assert application.country == "GB"
    assert application.contact.email == "ada@acme.co.uk"
    assert application.status == "unconfirmed" and application.confirm_by == NOW + timedelta(days=2)
    assert event.application_id == application.application_id and event.partner_id == application.partner_id
    assert event.DETAIL_TYPE == "PartnerApplicationSubmitted" and event.version == "1"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"website": "localhost"}, "website"),
        ({"country": "XX"}, "country"),
        ({"partner_type": "franchise"}, "partner_type"),
        ({"company_name": "x" * 201}, "company_name"),
        ({"company_name": "   "}, "company_name"),
        (
            {"expected_annual_revenue": {"amount_minor": 10.5, "currency": "USD"}},
            "expected_annual_revenue.amount_minor",
        ),
        (
            {"expected_annual_revenue": {"amount_minor": 10, "currency": "USD", "extra": 1}},
            "expected_annual_revenue.extra",
        ),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_application_request_rejects_bad_input_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        ApplicationRequest.model_validate(application_body(**changes))
    assert field in {".".join(str(p) for p in e["loc"]) for e in error.value.errors()}


def confirmed() -> Application:
    application, _ = domain.new_application(
        ApplicationRequest.model_validate(application_body()).applicant(),
        now=NOW,
        new_id=ids,
        confirm_within=timedelta(hours=1),
    )
    return domain.confirm(application, now=NOW, new_id=ids)[0]


def test_only_a_confirmed_application_can_be_decided_and_confirmation_has_a_deadline() -> None:
    application, _ = domain.new_application(
        ApplicationRequest.model_validate(application_body()).applicant(),
        now=NOW,
        new_id=ids,
        confirm_within=timedelta(hours=1),
    )
    with pytest.raises(domain.InvalidTransition):
        domain.approve(application, decided_by="boss@example.com", now=NOW, new_id=ids)
    with pytest.raises(domain.InvalidTransition):
        domain.confirm(application, now=NOW + timedelta(hours=1), new_id=ids)
    pending, event = domain.confirm(application, now=NOW, new_id=ids)
    assert pending.status == "pending" and pending.confirmed_at == NOW
    assert event.DETAIL_TYPE == "PartnerApplicationConfirmed" and event.application_id == application.application_id
    with pytest.raises(domain.InvalidTransition):
        domain.confirm(pending, now=NOW, new_id=ids)
    lapsed, expired = domain.expire(application, expected="unconfirmed", now=NOW + timedelta(hours=1), new_id=ids)
    assert lapsed.status == "expired" and expired.cause == "not_confirmed"
    assert domain.expire(pending, expected="pending", now=NOW, new_id=ids)[1].cause == "not_decided"


def test_each_timer_expires_only_the_state_it_was_set_for() -> None:
    """A confirmation committed just before the confirmation deadline fires is not expired as undecided (nor an
    application still unconfirmed by the workflow's expiry)."""
    application, _ = domain.new_application(
        ApplicationRequest.model_validate(application_body()).applicant(),
        now=NOW,
        new_id=ids,
        confirm_within=timedelta(hours=1),
    )
    pending = domain.confirm(application, now=NOW, new_id=ids)[0]
    with pytest.raises(domain.InvalidTransition):
        domain.expire(pending, expected="unconfirmed", now=NOW + timedelta(hours=1), new_id=ids)
    with pytest.raises(domain.InvalidTransition):
        domain.expire(application, expected="pending", now=NOW + timedelta(hours=1), new_id=ids)


def test_a_confirmation_that_lost_the_domain_closes_the_application_with_the_reason() -> None:
    application, _ = domain.new_application(
        ApplicationRequest.model_validate(application_body()).applicant(),
        now=NOW,
        new_id=ids,
        confirm_within=timedelta(hours=1),
    )
    closed, event = domain.close_as_duplicate(application, now=NOW, new_id=ids)
    assert closed.status == "rejected" and closed.closed_because == "domain_taken" and closed.decided_by == "system"
    assert event.DETAIL_TYPE == "PartnerApplicationRejected" and "acme.co.uk already has" in event.reason
    with pytest.raises(domain.InvalidTransition):
        domain.close_as_duplicate(domain.confirm(application, now=NOW, new_id=ids)[0], now=NOW, new_id=ids)


def test_every_invitation_event_names_its_invitation() -> None:
    _, _, user, events = domain.approve(confirmed(), decided_by="boss@example.com", now=NOW, new_id=ids)
    invited = events[1]
    assert invited.DETAIL_TYPE == "PartnerUserInvited"
    assert user.invitation_id and invited.invitation_id == user.invitation_id  # type: ignore[union-attr]


def test_approve_creates_registered_partner_and_invites_applicant() -> None:
    application = confirmed()
    decided, partner, user, events = domain.approve(application, decided_by="boss@example.com", now=NOW, new_id=ids)
    assert decided.status == "approved" and decided.decided_by == "boss@example.com"
    assert partner.tier == "Registered" and partner.status == "active" and partner.partner_id == application.partner_id
    assert user.role == "partner-admin" and user.email == "ada@acme.co.uk" and user.status == "invited"
    assert [e.DETAIL_TYPE for e in events] == ["PartnerOnboarded", "PartnerUserInvited"]
    assert len({e.event_id for e in events}) == 2
    with pytest.raises(domain.InvalidTransition):
        domain.approve(decided, decided_by="x", now=NOW, new_id=ids)
    with pytest.raises(domain.InvalidTransition):
        domain.reject(decided, reason="late", decided_by="x", now=NOW, new_id=ids)


def test_reject_and_expire_only_from_pending() -> None:
    application = confirmed()
    rejected, event = domain.reject(
        application, reason="No overlap", decided_by="boss@example.com", now=NOW, new_id=ids
    )
    assert rejected.status == "rejected" and event.reason == "No overlap"
    expired, expired_event = domain.expire(application, expected="pending", now=NOW, new_id=ids)
    assert expired.status == "expired" and expired_event.DETAIL_TYPE == "PartnerApplicationExpired"
    with pytest.raises(domain.InvalidTransition):
        domain.expire(rejected, expected="pending", now=NOW, new_id=ids)


def test_partner_users_see_only_their_own_organisation() -> None:
    domain.ensure_can_read_partner(principal("prt_1"), "prt_1")
    with pytest.raises(NotFound):
        domain.ensure_can_read_partner(principal("prt_1"), "prt_2")
    with pytest.raises(NotFound):
        domain.ensure_partner_admin(principal("prt_1"), "prt_2")
    with pytest.raises(Forbidden):
        domain.ensure_partner_admin(principal("prt_1", "partner-user"), "prt_1")
    domain.ensure_can_read_partner(principal(None, "vendor-admin"), "prt_2")
    with pytest.raises(Forbidden):
        domain.ensure_vendor_admin(principal("prt_1"))


def test_agreement_gate() -> None:
    current = Agreement(version="2026-01", title="T", body="B", published_at=NOW, published_by="v@example.com")
    me = principal("prt_1")
    assert not domain.agreement_required(me, None, None)
    assert domain.agreement_required(me, current, None)
    acceptance, event = domain.accept(me, current, "2026-01", now=NOW, new_id=ids)
    assert not domain.agreement_required(me, current, acceptance)
    newer = current.model_copy(update={"version": "2026-02"})
    assert domain.agreement_required(me, newer, acceptance)
    assert event.agreement_version == "2026-01" and event.user_id == "sub-1"
    assert not domain.agreement_required(principal(None, "vendor-admin"), current, None)
    with pytest.raises(Conflict) as mismatch:
        domain.accept(me, newer, "2026-01", now=NOW, new_id=ids)
    assert mismatch.value.code == "agreement_version_mismatch"


def test_invite_and_profile_update() -> None:
    application = confirmed()
    _, partner, _, _ = domain.approve(application, decided_by="boss@example.com", now=NOW, new_id=ids)
    request = InviteUserRequest(email="Bob@Acme.co.uk", name="Bob", role="partner-user")
    user, event = domain.invite(
        partner,
        email=request.email,
        name=request.name,
        role=request.role,
        invited_by="ada@acme.co.uk",
        now=NOW,
        new_id=ids,
    )
    assert user.email == "bob@acme.co.uk" and event.role == "partner-user" and event.partner_id == partner.partner_id
    changes = PartnerUpdateRequest(phone="+44 20 7946 0000").model_dump(exclude_unset=True)
    updated = domain.update_profile(partner, changes, now=NOW)
    assert updated.phone == "+44 20 7946 0000" and updated.revision == partner.revision + 1
    assert updated.description is None
    with pytest.raises(ValidationError):
        PartnerUpdateRequest.model_validate({"tier": "Gold"})


def test_what_is_still_to_be_sent() -> None:
    application = confirmed()
    assert domain.confirmation_request_skipped(application) == "no confirmation email: application is pending"
    assert domain.approval_skipped(application) is None
    assert domain.outcome_skipped(application, "rejected") == "no rejection email: application is pending"
    lapsed_unconfirmed = domain.expire(
        domain.new_application(
            ApplicationRequest.model_validate(application_body()).applicant(),
            now=NOW,
            new_id=ids,
            confirm_within=timedelta(hours=1),
        )[0],
        expected="unconfirmed",
        now=NOW,
        new_id=ids,
    )[0]
    assert domain.outcome_skipped(lapsed_unconfirmed, "expired") == (
        "lapsed unconfirmed: nobody to tell (the address was never confirmed)"
    )
    assert (
        domain.outcome_skipped(domain.expire(application, expected="pending", now=NOW, new_id=ids)[0], "expired")
        is None
    )
    assert not domain.marked_sent(application, "receipt")
    assert domain.marked_sent(application.model_copy(update={"receipt_sent_at": NOW}), "receipt")


def test_an_invitation_is_sent_for_the_users_current_invitation_only() -> None:
    _, _, user, events = domain.approve(confirmed(), decided_by="boss@example.com", now=NOW, new_id=ids)
    invited = events[1]
    assert invited.DETAIL_TYPE == "PartnerUserInvited"
    assert domain.invitation_skipped(user, invited) is None  # type: ignore[arg-type]
    assert domain.invitation_key(invited) == user.invitation_id  # type: ignore[arg-type]
    newer = user.model_copy(update={"invitation_id": "inv_newer"})
    assert domain.invitation_skipped(newer, invited) == "a newer invitation replaced this one"  # type: ignore[arg-type]
    active = user.model_copy(update={"status": "active"})
    assert domain.invitation_skipped(active, invited) is not None  # type: ignore[arg-type]
    assert domain.invitation_skipped(None, invited) is not None  # type: ignore[arg-type]


def test_the_same_form_after_a_rejection_or_lapse_is_a_new_application() -> None:
    application = confirmed()
    rejected = domain.reject(application, reason="No", decided_by="boss@example.com", now=NOW, new_id=ids)[0]
    assert domain.submitted_anew(rejected, keyed=False)
    assert not domain.submitted_anew(rejected, keyed=True)  # an Idempotency-Key names that request's application
    assert not domain.submitted_anew(application, keyed=False)  # still open: a retry


# ------------------------------------------------------------------ removing a partner user
def member(email: str, role: str = "partner-user", status: str = "active", partner_id: str = "prt_1") -> PartnerUser:
    return PartnerUser.model_validate(
        {
            "partner_id": partner_id,
            "email": email,
            "name": email.split("@", maxsplit=1)[0].title(),
            "role": role,
            "status": status,
            "invited_at": NOW,
            "invited_by": "system",
        }
    )


def test_removal_records_who_when_and_why_with_its_event() -> None:
    grace = member("grace@acme.co.uk")
    removed, event = domain.remove_user(principal(), grace, other_admins=[], reason="disabled", now=NOW, new_id=ids)
    assert (removed.status, removed.removed_by, removed.removed_at, removed.removal_reason) == (
        "removed",
        "ada@acme.co.uk",
        NOW,
        "disabled",
    )
    assert (event.DETAIL_TYPE, event.partner_id, event.user_email, event.removed_by, event.reason) == (
        "PartnerUserRemoved",
        "prt_1",
        "grace@acme.co.uk",
        "ada@acme.co.uk",
        "disabled",
    )
    assert event.removed_at == NOW and grace.status == "active"  # the record read is left as it was
    with pytest.raises(domain.InvalidTransition):
        domain.remove_user(principal(), removed, other_admins=[], reason="removed", now=NOW, new_id=ids)


def test_nobody_removes_themselves_and_the_last_partner_admin_stays() -> None:
    ada = member("ada@acme.co.uk", role="partner-admin")
    with pytest.raises(Conflict) as itself:
        domain.remove_user(
            principal(),
            ada,
            other_admins=[member("bob@acme.co.uk", "partner-admin")],
            reason="removed",
            now=NOW,
            new_id=ids,
        )
    assert itself.value.code == "cannot_remove_self" and itself.value.errors[0].field == "email"
    bob = member("bob@acme.co.uk", role="partner-admin")
    vendor = Principal(
        sub="v", email="channel@example.com", name="", partner_id=None, groups=frozenset({"vendor-admin"})
    )
    with pytest.raises(Conflict) as last:
        domain.remove_user(vendor, bob, other_admins=[], reason="removed", now=NOW, new_id=ids)
    assert last.value.code == "last_partner_admin" and "last partner admin" in last.value.message
    removed, _ = domain.remove_user(vendor, bob, other_admins=[ada], reason="removed", now=NOW, new_id=ids)
    assert removed.status == "removed" and removed.removed_by == "channel@example.com"
    # a partner user (not an admin) may be removed by the organisation's only admin
    eve, _ = domain.remove_user(
        principal(), member("eve@acme.co.uk"), other_admins=[], reason="removed", now=NOW, new_id=ids
    )
    assert eve.status == "removed"


def test_the_removal_body_is_strict() -> None:
    assert (
        RemoveUserRequest.model_validate({"email": "Grace@Acme.co.uk", "reason": "removed"}).email == "grace@acme.co.uk"
    )
    for bad in (
        {"email": "grace@acme.co.uk"},
        {"email": "grace@acme.co.uk", "reason": "fired"},
        {"email": "not-an-address", "reason": "removed"},
        {"email": "grace@acme.co.uk", "reason": "removed", "partner_id": "prt_2"},
    ):
        with pytest.raises(ValidationError):
            RemoveUserRequest.model_validate(bad)


def test_other_admins_are_the_admins_not_removed_other_than_the_one_removed() -> None:
    users = [
        member("ada@acme.co.uk", "partner-admin"),
        member("bob@acme.co.uk", "partner-admin", status="invited"),  # invited admins hold the role
        member("cy@acme.co.uk", "partner-admin", status="removed"),
        member("dee@acme.co.uk", "partner-user"),
    ]
    assert [u.email for u in domain.other_admins(users, "Ada@acme.co.uk")] == ["bob@acme.co.uk"]
    assert [u.email for u in domain.other_admins(users, "dee@acme.co.uk")] == ["ada@acme.co.uk", "bob@acme.co.uk"]


def test_a_removed_user_is_no_invitation_retry_and_is_refused_saying_why() -> None:
    removed = member("grace@acme.co.uk").model_copy(
        update={"status": "removed", "removed_at": NOW, "removal_reason": "disabled"}
    )
    assert not domain.same_invitation(removed, name=removed.name, role=removed.role)
    assert domain.same_invitation(member("grace@acme.co.uk"), name="Grace", role="partner-user")
    refusal = domain.user_was_removed(removed)
    assert refusal.code == "user_removed" and "2026-11-26" in refusal.message and "disabled" in refusal.message
    assert domain.revocation_skipped(removed) is None
    assert domain.revocation_skipped(member("grace@acme.co.uk")) is not None
    assert domain.revocation_skipped(None) is not None


# ------------------------------------------------------------------ the partner's tier
def test_the_profile_shows_the_newest_tier_whatever_order_the_changes_arrive_in() -> None:
    partner = onboarded_partner()
    changes = [
        TierChange("prt_1", "registered", "Registered", NOW, "evt_a"),
        TierChange("prt_1", "silver", "Silver", NOW + timedelta(days=30), "evt_b"),
        TierChange("prt_1", "gold", "Gold", NOW + timedelta(days=60), "evt_c"),
        TierChange("prt_1", "silver", "Silver", NOW + timedelta(days=60), "evt_d"),  # same instant: later id wins
    ]
    for arrival in itertools.permutations(changes):
        shown = partner
        for change in [*arrival, *arrival]:  # each redelivered too
            shown = domain.apply_tier(shown, change) or shown
        assert (shown.tier, shown.tier_id, shown.tier_since) == ("Silver", "silver", NOW + timedelta(days=60))
        assert shown.revision == partner.revision  # not a profile edit
    first = domain.apply_tier(partner, changes[1])
    assert first is not None and first.tier_order == domain.tier_order(changes[1])
    assert domain.apply_tier(first, changes[1]) is None and domain.apply_tier(first, changes[0]) is None
    assert partner.tier == "Registered" and partner.tier_id is None  # before any change: the entry tier's name


def test_the_tier_order_sorts_as_time_then_event_id() -> None:
    at = datetime(2026, 1, 1, 9, 0, 0, 999_000, tzinfo=UTC)
    one_later = TierChange("p", "t", "T", datetime(2026, 1, 1, 9, 0, 1, tzinfo=UTC), "evt_a")
    assert domain.tier_order(TierChange("p", "t", "T", at, "evt_z")) < domain.tier_order(one_later)
    assert domain.tier_order(TierChange("p", "t", "T", at, "evt_a")) < domain.tier_order(
        TierChange("p", "t", "T", at, "evt_b")
    )
    other_zone = at.astimezone(timezone(timedelta(hours=2)))  # the same instant written in another zone
    assert domain.tier_order(TierChange("p", "t", "T", other_zone, "e")) == domain.tier_order(
        TierChange("p", "t", "T", at, "e")
    )


def onboarded_partner() -> Partner:
    application, _ = domain.new_application(
        ApplicationRequest.model_validate(application_body()).applicant(),
        now=NOW,
        new_id=ids,
        confirm_within=timedelta(days=2),
    )
    confirmed, _ = domain.confirm(application, now=NOW, new_id=ids)
    _, partner, _, _ = domain.approve(confirmed, decided_by="approver@example.com", now=NOW, new_id=ids)
    return partner
