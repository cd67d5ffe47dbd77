"""In-memory fakes of rewards' earning ports (`rewards.ports.EarningRepository`, `RewardWorkflows`), for service tests
without AWS. B's redemptions fake is tests/support/fakes_rewards_redemptions.py.

The fake keeps the conditions the DynamoDB adapter writes with, all or nothing: a reward is new (DuplicateReward), a
deal reward's source has no tombstone unless it is reversed at once (SourceReversed), the campaign's committed
amount stays within its budget and the partner's within its cap (BudgetExhausted), an account is written at the seq
read (StaleAccount), a reward at the revision read (StaleReward), a campaign at its revision (CampaignConflict).
`lose_next` makes that many account writes lose a race, as a concurrent writer would."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rewards.domain.lifecycle import Earning, Transition
from rewards.domain.settlement import Spread
from rewards.models.earning import Account, Campaign, CertificationName, LedgerEntry, PartnerAt, Reward, Settlement
from rewards.ports import BudgetExhausted, CampaignConflict, DuplicateReward, SourceReversed, StaleAccount, StaleReward
from shared.errors import FieldError, Forbidden, ValidationFailed
from shared.events import EventDetail
from shared.principal import Principal


@dataclass
class FakeEarningRepository:
    stored_campaigns: dict[str, Campaign] = field(default_factory=dict)
    partner_commitments: dict[tuple[str, str], int] = field(default_factory=dict)
    partners: dict[str, PartnerAt] = field(default_factory=dict)
    tiers: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    rewards: dict[str, Reward] = field(default_factory=dict)
    markers: dict[tuple[str, str, int | None], set[str]] = field(default_factory=dict)
    tombstones: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    stored_accounts: dict[tuple[str, str, str], Account] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    outbox: list[EventDetail] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # partner id -> company name (the projection's profiles)
    certifications: dict[str, CertificationName] = field(default_factory=dict)  # training's names, by id
    name_reads: list[list[str]] = field(default_factory=list)  # the ids each certification_names call looked up
    settlements: dict[tuple[str, str, str], Settlement] = field(default_factory=dict)
    lose_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------- test helpers
    def events(self, detail_type: str) -> list[Any]:
        return [e for e in self.outbox if detail_type == e.DETAIL_TYPE]

    def set_partner(
        self, partner_id: str, *, region: str | None = "EMEA", partner_type: str | None = "reseller"
    ) -> None:
        self.partners[partner_id] = PartnerAt(partner_id=partner_id, region=region, partner_type=partner_type)

    def set_tier(self, partner_id: str, tier_id: str, effective_at: datetime) -> None:
        self.tiers.setdefault(partner_id, []).append((effective_at, tier_id))

    # ------------------------------------------------------------- campaigns
    def create_campaign(self, campaign: Campaign) -> None:
        if campaign.campaign_id in self.stored_campaigns:
            raise CampaignConflict(campaign.campaign_id)
        self.stored_campaigns[campaign.campaign_id] = campaign

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self.stored_campaigns.get(campaign_id)

    def campaigns(self, status: str | None = None) -> list[Campaign]:
        return [c for c in self.stored_campaigns.values() if status is None or c.status == status]

    def closed_campaigns(self, started_by: date) -> list[Campaign]:
        closed = [c for c in self.stored_campaigns.values() if c.status == "closed" and c.starts_on <= started_by]
        return sorted(closed, key=lambda c: (c.starts_on, c.campaign_id), reverse=True)

    def save_campaign(self, campaign: Campaign, *, expected_revision: int) -> None:
        stored = self.stored_campaigns[campaign.campaign_id]
        if stored.revision != expected_revision or stored.committed > campaign.budget:
            raise CampaignConflict(campaign.campaign_id)
        self.stored_campaigns[campaign.campaign_id] = campaign.model_copy(update={"committed": stored.committed})

    def partner_at(self, partner_id: str, at: datetime) -> PartnerAt:
        known = self.partners.get(partner_id) or PartnerAt(partner_id=partner_id)
        periods = sorted(p for p in self.tiers.get(partner_id, []) if p[0] <= at)
        return known.model_copy(update={"tier_id": periods[-1][1] if periods else None})

    # ------------------------------------------------------------- rewards
    def reward(self, reward_id: str) -> Reward | None:
        return self.rewards.get(reward_id)

    def rewards_of_source(self, kind: str, source_id: str, revision: int | None) -> list[Reward]:
        return [self.rewards[r] for r in sorted(self.markers.get((kind, source_id, revision), set()))]

    def deal_reversal(self, deal_id: str, revision: int) -> dict[str, str] | None:
        return self.tombstones.get((deal_id, revision))

    def record_reversal(self, deal_id: str, revision: int, *, reason: str, reversed_by: str, at: datetime) -> bool:
        if (deal_id, revision) in self.tombstones:
            return False
        self.tombstones[deal_id, revision] = {
            "reason": reason,
            "reversed_by": reversed_by,
            "reversed_at": at.isoformat(),
        }
        return True

    def _check_account(self, account: Account, expected_seq: int | None) -> None:
        if self.lose_next:
            self.lose_next -= 1
            raise StaleAccount("lost a race")
        stored = self.stored_accounts.get((account.partner_id, account.person_email, account.unit))
        if (stored is None) != (expected_seq is None) or (stored is not None and stored.seq != expected_seq):
            raise StaleAccount(account.account_id)

    def _commit(self, reward: Reward, delta: int) -> None:
        campaign = self.stored_campaigns[reward.campaign_id]
        self.stored_campaigns[reward.campaign_id] = campaign.model_copy(
            update={"committed": campaign.committed + delta}
        )
        key = (reward.campaign_id, reward.partner_id)
        self.partner_commitments[key] = self.partner_commitments.get(key, 0) + delta

    def _write(self, change: Transition) -> None:
        account = change.account
        self.stored_accounts[account.partner_id, account.person_email, account.unit] = account
        self.entries += change.entries
        self.outbox += change.events
        self.rewards[change.reward.reward_id] = change.reward

    def earn(self, earning: Earning) -> None:
        with self.lock:
            reward = earning.reward
            if reward.reward_id in self.rewards:
                raise DuplicateReward(reward.reward_id)
            source = reward.source
            if (
                source.kind == "deal"
                and not earning.reversed_at_once
                and (source.id, source.revision) in self.tombstones
            ):
                raise SourceReversed(source.id)
            if earning.committed:
                campaign = self.stored_campaigns[reward.campaign_id]
                if campaign.committed + earning.committed > earning.budget:
                    raise BudgetExhausted(per_partner=False)
                partner = self.partner_commitments.get((reward.campaign_id, reward.partner_id), 0)
                if earning.per_partner_cap is not None and partner + earning.committed > earning.per_partner_cap:
                    raise BudgetExhausted(per_partner=True)
            self._check_account(earning.account, earning.expected_seq)
            if earning.committed:
                self._commit(reward, earning.committed)
            self.markers.setdefault((source.kind, source.id, source.revision), set()).add(reward.reward_id)
            self._write(earning)

    def apply(self, transition: Transition) -> None:
        with self.lock:
            stored = self.rewards.get(transition.reward.reward_id)
            if stored is None or stored.revision != transition.expected_revision:
                raise StaleReward(transition.reward.reward_id)
            self._check_account(transition.account, transition.expected_seq)
            if transition.released:
                self._commit(transition.reward, -transition.released)
            reward = transition.reward
            if reward.status == "reversed" and reward.paid_amount:  # the adapter's settlement update
                key = (reward.partner_id, reward.person_email, reward.unit)
                settled = self.settlement(*key)
                self.settlements[key] = settled.model_copy(update={"settled": settled.settled - reward.paid_amount})
            self._write(transition)

    # ------------------------------------------------------------- spending spread over rewards
    def settlement(self, partner_id: str, email: str, unit: str) -> Settlement:
        key = (partner_id, email.lower(), unit)
        return self.settlements.get(key) or Settlement(partner_id=partner_id, person_email=email, unit=unit)

    def unspent_rewards(self, partner_id: str, email: str, unit: str, *, limit: int) -> list[Reward]:
        """The adapter's markers exist exactly while a reward is available; ordered by earning time, then id."""
        mine = [
            r
            for r in self.rewards.values()
            if (r.partner_id, r.person_email, r.unit, r.status) == (partner_id, email.lower(), unit, "available")
        ]
        return sorted(mine, key=lambda r: (r.earned_at, r.reward_id))[:limit]

    def spread(self, change: Spread) -> None:
        with self.lock:
            reward, settlement = change.reward, change.settlement
            stored = self.rewards.get(reward.reward_id)
            current = self.settlement(settlement.partner_id, settlement.person_email, settlement.unit)
            if (
                stored is None
                or stored.revision != change.expected_revision
                or current.settled != change.expected_settled
            ):
                raise StaleAccount(reward.reward_id)
            self.rewards[reward.reward_id] = reward
            self.settlements[settlement.partner_id, settlement.person_email, settlement.unit] = settlement
            if change.paid is not None:
                self.outbox.append(change.paid)

    # ------------------------------------------------------------- accounts and history
    def account(self, partner_id: str, email: str, unit: str) -> Account | None:
        return self.stored_accounts.get((partner_id, email.lower(), unit))

    def accounts(self, partner_id: str, email: str | None = None) -> list[Account]:
        return [
            a
            for (pid, person, _), a in sorted(self.stored_accounts.items())
            if pid == partner_id and (email is None or person == email.lower())
        ]

    def ledger(self, partner_id: str, email: str, unit: str) -> list[LedgerEntry]:
        return [e for e in self.entries if (e.partner_id, e.person_email, e.unit) == (partner_id, email.lower(), unit)]

    def history(
        self, partner_id: str, email: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        mine = sorted(
            (r for r in self.rewards.values() if r.partner_id == partner_id and r.person_email == email.lower()),
            key=lambda r: (r.earned_at, r.reward_id),
            reverse=True,
        )
        start = int(cursor or 0)
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return [{"entity": "reward"} | r.model_dump(mode="json") for r in page], (str(start + limit) if more else None)

    def rewards_with_status(
        self, status: str, *, campaign_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Reward], str | None]:
        listed = sorted(
            (
                r
                for r in self.rewards.values()
                if r.status == status and (campaign_id is None or r.campaign_id == campaign_id)
            ),
            key=lambda r: (r.earned_at, r.reward_id),
            reverse=True,
        )
        if cursor is not None and not cursor.isdigit():
            raise ValidationFailed("The cursor is not valid for this list.", [FieldError("cursor", "invalid")])
        start = int(cursor or 0)
        more = start + limit < len(listed)
        return listed[start : start + limit], (str(start + limit) if more else None)

    def partner_names(self, partner_ids: list[str]) -> dict[str, str]:
        return {p: self.names[p] for p in partner_ids if p in self.names}

    def save_certification_name(self, name: CertificationName) -> bool:
        """Like the adapter's conditional put: only a later definition replaces a stored one."""
        stored = self.certifications.get(name.certification_id)
        if stored is not None and stored.defined_at >= name.defined_at:
            return False
        self.certifications[name.certification_id] = name
        return True

    def certification_names(self, certification_ids: list[str]) -> dict[str, str]:
        self.name_reads.append(sorted(set(certification_ids)))
        known = [self.certifications[c] for c in set(certification_ids) if c in self.certifications]
        return {c.certification_id: c.certification_name for c in known}


@dataclass
class FakeRewardWorkflows:
    # reward id (round 1) or "<reward id>-r<round>" -> campaign id: idempotent by reward and approval round
    approvals: dict[str, str] = field(default_factory=dict)
    timers: dict[str, datetime] = field(default_factory=dict)

    def start_approval(self, reward: Reward, campaign: Campaign) -> str:
        name = reward.reward_id + (f"-r{reward.approval_round}" if reward.approval_round > 1 else "")
        if name in self.approvals:
            return "already started"
        self.approvals[name] = campaign.campaign_id
        return f"approval of {reward.reward_id}"

    def schedule_available(self, reward: Reward, at: datetime, now: datetime) -> str:
        self.timers.setdefault(reward.reward_id, at)
        return f"available at {at.isoformat()}"


@dataclass
class FakeAgreementGate:
    """The programme agreement gate: partner users in `not_accepted` (by sub) are refused (agreement_required)."""

    not_accepted: set[str] = field(default_factory=set)

    def require_accepted(self, principal: Principal) -> None:
        if principal.partner_id is not None and principal.sub in self.not_accepted:
            raise Forbidden("Accept the current programme agreement first.", code="agreement_required")
