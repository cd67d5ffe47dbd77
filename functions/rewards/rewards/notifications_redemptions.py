"""Emails to the people who redeem and claim (rendering only; sending is shared.mail through the Mailer port)."""

from __future__ import annotations

from contracts.rewards import PayoutHeld, PayoutPaid
from rewards.models.redemptions import Claim
from shared.clock import readable
from shared.mail import Email
from shared.money import format_amount, format_money
from shared.notices import notice


def _rewards_link(portal_url: str, section: str = "") -> str:
    return f"{portal_url.rstrip('/')}/#/rewards{section}"


def payout_paid(event: PayoutPaid, portal_url: str) -> Email:
    lines = [
        f"Your payout of {format_money(event.amount)} was paid on {readable(event.paid_at)}.",
        f"Reference: {event.redemption_id} (batch {event.batch_id}).",
    ]
    return notice(
        event.person_email,
        f"Payout paid: {format_money(event.amount)}",
        lines,
        _rewards_link(portal_url),
        "See your rewards",
    )


def payout_held(event: PayoutHeld, portal_url: str) -> Email:
    lines = [
        f"Your payout of {format_money(event.amount)} is approved but on hold: {event.reason}.",
        "Your organisation's administrator can send the programme team the tax form; the payout follows once it is on file.",
    ]
    return notice(
        event.person_email,
        f"Payout on hold: {format_money(event.amount)}",
        lines,
        _rewards_link(portal_url),
        "See your rewards",
    )


def claim_decided(claim: Claim, portal_url: str) -> Email:
    link = _rewards_link(portal_url, f"/claims/{claim.claim_id}")
    amount = f"{claim.amount:,} points" if claim.unit == "points" else format_amount(claim.amount, claim.unit)
    if claim.status == "approved":
        lines = [f"Your claim for {claim.campaign_name} is approved: you earned {amount}."]
        return notice(claim.person, f"Claim approved: {claim.campaign_name}", lines, link, "Open the claim")
    if claim.status == "returned":
        lines = [
            f"Your claim for {claim.campaign_name} needs more proof before it can be approved.",
            f"Reviewer's note: {claim.status_reason or 'not given'}",
            f"Add proof and resubmit it while the campaign runs (claim {claim.claim_id}).",
        ]
        return notice(claim.person, f"More proof needed: {claim.campaign_name}", lines, link, "Open the claim")
    lines = [f"Your claim for {claim.campaign_name} was declined.", f"Reason: {claim.status_reason or 'not given'}"]
    return notice(claim.person, f"Claim declined: {claim.campaign_name}", lines, link, "Open the claim")
