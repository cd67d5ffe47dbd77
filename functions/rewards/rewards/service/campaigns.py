"""The rewards API's use cases (RewardsApiFunction): campaigns (vendor admins manage them; partners see those open
to them, rules in plain words), a person's rewards and balances, an organisation's totals, and vendor staff's lists of
rewards by status with what they can do to them (hold, release a hold, decline a held reward)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rewards.domain import lifecycle
from rewards.domain.campaigns import certification_ids, close_campaign, new_campaign, patch_campaign, rule_words
from rewards.domain.eligibility import open_to
from rewards.domain.ledger import new_account
from rewards.models.common import POINTS
from rewards.models.earning import Account, Campaign, CampaignBody, CampaignPatch, Reward
from rewards.ports import CampaignConflict, EarningRepository, ProgrammeAgreement, StaleAccount
from shared.clock import Clock, utc_now
from shared.errors import Conflict, FieldError, Forbidden, NotFound, Unavailable, ValidationFailed
from shared.ids import new_id
from shared.principal import Principal
from shared.retry import attempts

VENDOR_ADMIN = "vendor-admin"
PARTNER_ADMIN = "partner-admin"
ATTEMPTS = 8


def _vendor_admin(principal: Principal, what: str) -> None:
    if not principal.in_group(VENDOR_ADMIN):
        raise Forbidden(f"Only vendor administrators {what}.")


def _partner_of(principal: Principal) -> str:
    if not principal.partner_id:
        raise Forbidden("Only partner users have rewards.")
    return principal.partner_id


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    rules_in_words: list[str]


@dataclass(frozen=True)
class PersonRewards:
    balances: list[Account]
    history: list[dict[str, Any]]
    cursor: str | None


@dataclass(frozen=True)
class RewardLine:
    """One reward on vendor staff's lists: the reward, its partner's name (None before the projection has it) and
    what happens next in words."""

    reward: Reward
    partner_name: str | None
    next_step: str


@dataclass(frozen=True)
class RewardPage:
    lines: list[RewardLine]
    cursor: str | None


@dataclass
class RewardsService:
    repository: EarningRepository
    gate: ProgrammeAgreement
    clock: Clock = utc_now
    ids: Callable[[str], str] = new_id
    payout_currencies: frozenset[str] | None = None  # the currencies payouts are offered in (None: not checked)

    def admit(self, principal: Principal) -> Principal:
        """A partner user acts only once they accepted the current programme agreement (agreement_required)."""
        self.gate.require_accepted(principal)
        return principal

    # ------------------------------------------------------------- campaigns
    @staticmethod
    def ensure_manages_campaigns(principal: Principal) -> None:
        _vendor_admin(principal, "manage reward campaigns")

    def view(self, campaign: Campaign) -> CampaignView:
        """The campaign with its rules in words; a certification by the name training defined it with when the
        projection has it (read by key), by its id otherwise (an unknown id is accepted: the event may lag)."""
        ids = certification_ids(list(campaign.rules))
        names = self.repository.certification_names(ids) if ids else {}
        return CampaignView(campaign, [rule_words(rule, campaign.unit, names) for rule in campaign.rules])

    def create_campaign(self, principal: Principal, body: CampaignBody) -> CampaignView:
        self.ensure_manages_campaigns(principal)
        if body.unit != POINTS and self.payout_currencies is not None and body.unit not in self.payout_currencies:
            offered = ", ".join(sorted(self.payout_currencies)) or "no currency"
            raise ValidationFailed(
                f"Payouts are offered in {offered}: a {body.unit} balance could never be paid out.",
                [FieldError("unit", f"must be points or a payout currency ({offered})")],
            )
        campaign = new_campaign(body, campaign_id=self.ids("cmp"), created_by=principal.email, now=self.clock())
        try:
            self.repository.create_campaign(campaign)
        except CampaignConflict as conflict:
            raise Conflict("A campaign with this id exists already; try again.") from conflict
        return self.view(campaign)

    def campaigns(self, principal: Principal) -> list[CampaignView]:
        """Vendor staff: every campaign. A partner user: the open campaigns its organisation is eligible for now."""
        if principal.in_group(VENDOR_ADMIN):
            return [self.view(c) for c in self.repository.campaigns()]
        now = self.clock()
        partner = self.repository.partner_at(_partner_of(principal), now)
        return [self.view(c) for c in self.repository.campaigns("open") if open_to(c, partner, now.date())]

    def campaign(self, principal: Principal, campaign_id: str) -> CampaignView:
        campaign = self.repository.campaign(campaign_id)
        if campaign is None:
            raise NotFound(f"No campaign {campaign_id}.")
        if not principal.in_group(VENDOR_ADMIN):
            now = self.clock()
            if not open_to(campaign, self.repository.partner_at(_partner_of(principal), now), now.date()):
                raise NotFound(f"No campaign {campaign_id}.")
        return self.view(campaign)

    def _change(
        self, principal: Principal, campaign_id: str, change: Callable[[Campaign, datetime], Campaign]
    ) -> CampaignView:
        self.ensure_manages_campaigns(principal)
        for _ in attempts(ATTEMPTS):
            campaign = self.repository.campaign(campaign_id)
            if campaign is None:
                raise NotFound(f"No campaign {campaign_id}.")
            changed = change(campaign, self.clock())
            if changed is campaign:
                return self.view(campaign)
            try:
                self.repository.save_campaign(changed, expected_revision=campaign.revision)
            except CampaignConflict:
                continue
            return self.view(changed)
        raise Unavailable(f"The campaign {campaign_id} is changing; try again.")

    def patch_campaign(self, principal: Principal, campaign_id: str, patch: CampaignPatch) -> CampaignView:
        return self._change(principal, campaign_id, lambda c, now: patch_campaign(c, patch, now=now))

    def close_campaign(self, principal: Principal, campaign_id: str) -> CampaignView:
        return self._change(principal, campaign_id, lambda c, now: close_campaign(c, now=now))

    # ------------------------------------------------------------- people's rewards
    def mine(self, principal: Principal, *, limit: int, cursor: str | None) -> PersonRewards:
        partner_id = _partner_of(principal)
        history, next_cursor = self.repository.history(partner_id, principal.email, limit=limit, cursor=cursor)
        return PersonRewards(self.repository.accounts(partner_id, principal.email), history, next_cursor)

    def organisation(self, principal: Principal) -> list[Account]:
        partner_id = _partner_of(principal)
        if not principal.in_group(PARTNER_ADMIN):
            raise Forbidden("Only partner administrators see the organisation's rewards.")
        return sorted(self.repository.accounts(partner_id), key=lambda a: (a.person_email, a.unit))

    # ------------------------------------------------------------- vendor staff: rewards by status, holds
    # What each vendor-admin use case is called in its refusal, at the edge (before the request is parsed) and below.
    LIST, HOLD, RELEASE, DECLINE_HELD = (
        "list rewards by status",
        "hold rewards",
        "release held rewards",
        "decline held rewards",
    )

    @staticmethod
    def ensure_vendor_admin(principal: Principal, what: str) -> None:
        """The refusal the use case `what` (LIST, HOLD, RELEASE or DECLINE_HELD) gives, checked by its route before
        the request is parsed, so a partner user gets the same 403 whatever they send."""
        _vendor_admin(principal, what)

    def rewards_with_status(
        self, principal: Principal, status: str, *, campaign_id: str | None, limit: int, cursor: str | None
    ) -> RewardPage:
        """Vendor admins: one page of the rewards in `status`, newest first, optionally of one campaign."""
        _vendor_admin(principal, self.LIST)
        rewards, next_cursor = self.repository.rewards_with_status(
            status, campaign_id=campaign_id, limit=limit, cursor=cursor
        )
        names = self.repository.partner_names([r.partner_id for r in rewards])
        lines = [RewardLine(r, names.get(r.partner_id), lifecycle.next_step(r)) for r in rewards]
        return RewardPage(lines, next_cursor)

    def _act(
        self,
        principal: Principal,
        reward_id: str,
        *,
        done: Callable[[Reward], bool],
        step: Callable[[Reward, Account, datetime], lifecycle.Transition],
    ) -> Reward:
        """Read the reward and its account, apply one step (conditional on both), retry a lost race; a reward
        already where the step leads (`done`) is answered as it is (a repeated request changes nothing)."""
        for _ in attempts(ATTEMPTS):
            now = self.clock()
            reward = self.repository.reward(reward_id)
            if reward is None:
                raise NotFound(f"No reward {reward_id}.")
            if done(reward):
                return reward
            account = self.repository.account(reward.partner_id, reward.person_email, reward.unit) or new_account(
                reward.partner_id, reward.person_email, reward.unit, now
            )
            transition = step(reward, account, now)
            try:
                self.repository.apply(transition)
            except StaleAccount:
                continue
            return transition.reward
        raise Unavailable(f"The reward {reward_id} is changing; try again.")

    def hold(self, principal: Principal, reward_id: str, reason: str) -> Reward:
        """A pending reward waits (with the reason) for the approver's decision, which still arrives by the link."""
        _vendor_admin(principal, self.HOLD)
        return self._act(
            principal,
            reward_id,
            done=lambda r: r.status == "on_hold",
            step=lambda r, a, now: lifecycle.hold(
                r, a, reason=reason, by=principal.email, now=now, event_ids=[self.ids("evt")]
            ),
        )

    def release(self, principal: Principal, reward_id: str) -> Reward:
        """A held reward goes back to pending and to its approver: the approval it was held under still decides
        it, or (when that lapsed during the hold) a new approval round is asked for (RewardHoldReleased)."""
        _vendor_admin(principal, self.RELEASE)
        return self._act(
            principal,
            reward_id,
            done=lambda r: r.status == "pending",  # released already (a repeated request)
            step=lambda r, a, now: lifecycle.release(r, a, by=principal.email, now=now, event_ids=[self.ids("evt")]),
        )

    def decline_held(self, principal: Principal, reward_id: str, reason: str) -> Reward:
        """Vendor staff decline a reward they held (the reason is shown to the partner); the amount goes back to
        the campaign's budget. Pending rewards are the approver's to decide by the link."""
        _vendor_admin(principal, self.DECLINE_HELD)

        def step(reward: Reward, account: Account, now: datetime) -> lifecycle.Transition:
            if reward.status != "on_hold":
                raise lifecycle.InvalidRewardState(
                    f"The reward {reward_id} is {reward.status}; only a reward on hold can be declined here "
                    "(the approver decides pending ones by the email link)."
                )
            return lifecycle.decline(
                reward, account, reason=reason, by=principal.email, now=now, event_ids=[self.ids("evt")]
            )

        return self._act(
            principal,
            reward_id,
            done=lambda r: r.status == "declined" and r.status_reason == reason,
            step=step,
        )
