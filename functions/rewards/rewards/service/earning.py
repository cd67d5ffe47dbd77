"""What the rewards events function runs: earning from facts (won deals, certifications, approved claims), reversals
of deal wins, the approval workflow's decisions and the available-after timers.

Every path is idempotent and order-independent: a reward's id is derived from its fact, every write is conditional
(a lost race reads again and retries), a deal win reversed before its DealWon arrived leaves a tombstone that makes
the late DealWon earn and reverse at once, and workflows and timers start under deterministic names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rewards.domain import lifecycle
from rewards.domain.earning import (
    Applied,
    ClaimFact,
    ClaimNotEarned,
    DealFact,
    Fact,
    judge,
    plan_earning,
    refusal,
    reward_id,
)
from rewards.domain.eligibility import ineligible
from rewards.domain.ledger import new_account
from rewards.domain.lifecycle import Transition
from rewards.domain.settlement import gap, spread
from rewards.models.earning import (
    Account,
    Campaign,
    CertificationName,
    Reward,
    RewardApprovalExpired,
    RewardAvailableDue,
    RewardDecision,
)
from rewards.ports import (
    BudgetExhausted,
    DuplicateReward,
    EarningRepository,
    Mailer,
    RewardNotices,
    RewardWorkflows,
    SideEffectLedger,
    SourceReversed,
    StaleAccount,
)
from rewards.repository import keys
from shared.clock import Clock, utc_now
from shared.errors import NotYetDue, Unavailable
from shared.ids import new_id
from shared.retry import attempts

ATTEMPTS = 12  # racing writers on one account or campaign: each retry reads again
SPREAD_ROUND = 25  # rewards one round of spreading reads (a payout covering more goes on in further rounds)
SPREAD_ROUNDS = 8  # rounds one call runs; what is left is spread by the next spending or availability
EVENT_IDS = 4  # the most events one step publishes (earned, approved, available, reversed)
NOT_DECIDED = "nobody decided in time"


@dataclass
class EarningService:
    repository: EarningRepository
    workflows: RewardWorkflows
    mailer: Mailer
    notices: RewardNotices
    effects: SideEffectLedger
    clock: Clock = utc_now
    ids: Callable[[str], str] = new_id

    def _event_ids(self) -> list[str]:
        return [self.ids("evt") for _ in range(EVENT_IDS)]

    # ------------------------------------------------------------- certification names (rule words)
    def certification_defined(self, certification_id: str, certification_name: str, defined_at: datetime) -> str:
        """Training defined (or renamed) a certification: rules naming it say its name from now on. A conditional
        put by `defined_at`: a redelivered or older definition changes nothing."""
        name = CertificationName(
            certification_id=certification_id, certification_name=certification_name, defined_at=defined_at
        )
        if self.repository.save_certification_name(name):
            return f"certification {certification_id} is named {certification_name!r}"
        return f"certification {certification_id}: a definition as new or newer is recorded already"

    # ------------------------------------------------------------- earning
    def earn(self, fact: Fact) -> str:
        """Every reward the fact earns under the open campaigns whose dates contain its time and whose eligibility
        the partner met then; the reasons rules did not apply come back in the outcome (logged)."""
        partner = self.repository.partner_at(fact.partner_id, fact.at)
        # closed campaigns too: one closed after the fact's time still rewards it (eligibility is the fact's time's)
        campaigns = self.repository.campaigns("open") + self.repository.closed_campaigns(fact.at.date())
        judgement = judge(fact, [(c, ineligible(c, partner, fact.at)) for c in campaigns])
        outcomes = [self._earn_one(applied, fact) for applied in judgement.applied]
        outcomes += [f"not applied: {why}" for why in judgement.skipped]
        return "; ".join(outcomes) or f"no open campaign rewards this {fact.kind}"

    def earn_claim(self, fact: ClaimFact) -> str:
        """A SPIFF claim its reviewer approved (B's claims): one reward under the claim's campaign rule, judged at the
        claim's filing time (`fact.at`), so a claim approved after its campaign closed still earns. When it cannot
        earn, or its reward is declined (budget, cap), ClaimNotEarned says why, for the claim to show the partner."""
        campaign = self.repository.campaign(fact.campaign_id)
        if campaign is None:
            raise ClaimNotEarned(f"the campaign {fact.campaign_id} does not exist")
        partner = self.repository.partner_at(fact.partner_id, fact.at)
        judgement = judge(fact, [(campaign, ineligible(campaign, partner, fact.at))])
        if not judgement.applied:
            why = "; ".join(s.split(": ", 1)[-1] for s in judgement.skipped)
            raise ClaimNotEarned(why or f"the campaign has no claim rule {fact.rule_id}")
        outcomes = [self._earn_one(applied, fact) for applied in judgement.applied]
        for applied in judgement.applied:
            reward = self.repository.reward(reward_id(campaign.campaign_id, str(applied.rule.rule_id), fact))
            if reward is not None and reward.status == "declined":
                raise ClaimNotEarned(reward.status_reason or "its reward was declined")
        return "; ".join(outcomes)

    def _earn_one(self, applied: Applied, fact: Fact) -> str:
        refused: str | None = None
        for _ in attempts(ATTEMPTS):
            now = self.clock()
            account = self.repository.account(fact.partner_id, fact.earner, applied.campaign.unit)
            reversal = (
                self.repository.deal_reversal(fact.deal_id, fact.revision) if isinstance(fact, DealFact) else None
            )
            earning = plan_earning(
                applied,
                fact,
                account or new_account(fact.partner_id, fact.earner, applied.campaign.unit, now),
                new_account=account is None,
                refused=refused,
                reversal=reversal,
                now=now,
                event_ids=self._event_ids(),
            )
            try:
                self.repository.earn(earning)
            except DuplicateReward:
                existing = self.repository.reward(earning.reward.reward_id)
                return self._follow_up(existing, applied.campaign, now) if existing else "already earned"
            except BudgetExhausted as exhausted:
                refused = refusal(exhausted.per_partner)
                continue
            except (StaleAccount, SourceReversed):
                continue
            self._follow_up(earning.reward, applied.campaign, now)
            return earning.outcome
        raise Unavailable(f"the reward {earning.reward.reward_id} could not be written after {ATTEMPTS} attempts")

    def _follow_up(self, reward: Reward, campaign: Campaign, now: datetime) -> str:
        """What follows a reward's state, repeated harmlessly on every delivery: the approval workflow of a pending
        reward (deterministic execution name), the available-after timer of an approved one, the earner's email."""
        if reward.status == "pending":
            self.workflows.start_approval(reward, campaign)
        if reward.status == "approved" and reward.available_at is not None:
            self.workflows.schedule_available(reward, reward.available_at, now)
        self._mail(reward)
        return f"{reward.reward_id}: {reward.status}"

    def _mail(self, reward: Reward) -> None:
        pk, _ = keys.reward(reward.reward_id)
        mail = {
            "pending": ("earned", self.notices.earned),
            "approved": ("earned", self.notices.earned),
            "available": ("available", self.notices.available),
            "declined": ("declined", self.notices.declined),
            "reversed": ("reversed", self.notices.reversed),
        }.get(reward.status)
        if mail is None:
            return
        if reward.status == "available" and reward.status_at == reward.earned_at:
            mail = ("earned", self.notices.earned)  # available as it was earned: one email says both
        key, render = mail
        self.effects.once(pk, f"mail:{key}", lambda: self.mailer.send(render(reward)))

    # ------------------------------------------------------------- a reward's next step
    def _step(self, reward_id: str, decide: Callable[[Reward, datetime], Transition | str]) -> str:
        """Read the reward and its account, apply one lifecycle step, write it conditionally; retry a lost race."""
        for _ in attempts(ATTEMPTS):
            now = self.clock()
            reward = self.repository.reward(reward_id)
            if reward is None:
                return f"reward {reward_id} not found"
            decided = decide(reward, now)
            if isinstance(decided, str):
                return decided
            try:
                self.repository.apply(decided)
            except StaleAccount:
                continue
            campaign = self.repository.campaign(reward.campaign_id)
            if campaign is not None:
                self._follow_up(decided.reward, campaign, now)
            return f"{reward_id}: {decided.outcome}"
        raise Unavailable(f"the reward {reward_id} could not be updated after {ATTEMPTS} attempts")

    def _account(self, reward: Reward, now: datetime) -> Account:
        account = self.repository.account(reward.partner_id, reward.person_email, reward.unit)
        return account or new_account(reward.partner_id, reward.person_email, reward.unit, now)

    def apply_decision(self, message: RewardDecision) -> str:
        def decide(reward: Reward, now: datetime) -> Transition | str:
            if reward.status not in {"pending", "on_hold"}:
                return f"{reward.reward_id} is {reward.status}: the decision changes nothing"
            account = self._account(reward, now)
            if message.decision == "approved":
                campaign = self.repository.campaign(reward.campaign_id)
                days = campaign.available_after_days if campaign else 0
                return lifecycle.approve(
                    reward,
                    account,
                    by=message.decided_by,
                    available_after_days=days,
                    now=now,
                    event_ids=self._event_ids(),
                )
            reason = message.reason or "declined by the approver"
            return lifecycle.decline(
                reward, account, reason=reason, by=message.decided_by, now=now, event_ids=self._event_ids()
            )

        return self._step(message.reward_id, decide)

    def approval_lapsed(self, message: RewardApprovalExpired) -> str:
        def decide(reward: Reward, now: datetime) -> Transition | str:
            if reward.status not in {"pending", "on_hold"}:
                return f"{reward.reward_id} is {reward.status}"
            account = self._account(reward, now)
            if reward.status == "on_hold":  # held on purpose: it waits for vendor staff to release or decline it
                if reward.approval_lapsed:
                    return f"{reward.reward_id} is on hold; its approval had lapsed already"
                return lifecycle.approval_lapsed_on_hold(reward, account, now=now)
            return lifecycle.decline(
                reward, account, reason=NOT_DECIDED, by="Reward approval", now=now, event_ids=self._event_ids()
            )

        return self._step(message.reward_id, decide)

    def hold_released(self, reward_id: str) -> str:
        """RewardHoldReleased (rewards' own event): the reward is pending again; ask its approver (the round's
        workflow has a deterministic name, so a round still running is not asked twice)."""
        reward = self.repository.reward(reward_id)
        if reward is None:
            return f"reward {reward_id} not found"
        if reward.status != "pending":
            return f"{reward_id} is {reward.status}: no approval to ask for"
        campaign = self.repository.campaign(reward.campaign_id)
        if campaign is None:
            return f"campaign {reward.campaign_id} not found"
        self.workflows.start_approval(reward, campaign)
        return f"{reward_id}: approval round {reward.approval_round} asked"

    def make_available(self, message: RewardAvailableDue) -> str:
        def decide(reward: Reward, now: datetime) -> Transition | str:
            if reward.status != "approved" or reward.available_at is None:
                return f"{reward.reward_id} is {reward.status}: nothing to make available"
            if now < reward.available_at:
                raise NotYetDue(f"{reward.reward_id} becomes available at {reward.available_at.isoformat()}")
            return lifecycle.make_available(reward, self._account(reward, now), now=now, event_ids=self._event_ids())

        return self._step(message.reward_id, decide)

    # ------------------------------------------------------------- reversals
    def win_reversed(self, *, deal_id: str, revision: int, reason: str, reversed_by: str) -> str:
        """Tombstone first (a DealWon still on its way then earns and reverses at once), then every reward of the
        win, found by the source markers with a consistent read, is reversed, even if already paid."""
        recorded = self.repository.record_reversal(
            deal_id, revision, reason=reason, reversed_by=reversed_by, at=self.clock()
        )
        outcomes = [
            self.reverse(reward.reward_id, reason=reason, by=reversed_by)
            for reward in self.repository.rewards_of_source("deal", deal_id, revision)
        ]
        head = f"win {deal_id}#{revision} reversed" + ("" if recorded else " (again)")
        return "; ".join([head, *outcomes])

    def reverse(self, reward_id: str, *, reason: str, by: str) -> str:
        def decide(reward: Reward, now: datetime) -> Transition | str:
            if reward.status in {"declined", "reversed"}:
                return f"{reward.reward_id} is {reward.status}: nothing to reverse"
            return lifecycle.reverse(
                reward, self._account(reward, now), reason=reason, by=by, now=now, event_ids=self._event_ids()
            )

        return self._step(reward_id, decide)

    # ------------------------------------------------------------- which rewards the spending paid
    def settle(self, partner_id: str, email: str, unit: str) -> str:
        """Spread what the person spent in `unit` (payouts paid, items fulfilled) over their available rewards,
        oldest first; a reward fully covered becomes `paid` (RewardPaid). Runs on PayoutPaid, RedemptionFulfilled
        and RewardAvailable; idempotent (the settlement's running total is the condition of every write), and each
        round reads a bounded page of rewards, whatever the person's history."""
        email = email.lower()
        covered: list[str] = []
        for _ in range(SPREAD_ROUNDS):
            settlement = self.repository.settlement(partner_id, email, unit)
            left = gap(self.repository.account(partner_id, email, unit), settlement)
            if left == 0:
                break
            candidates = self.repository.unspent_rewards(partner_id, email, unit, limit=SPREAD_ROUND)
            if not candidates:
                covered.append(f"{left} spent with no available reward left to cover (the next ones will)")
                break
            for reward in candidates:
                change = spread(reward, settlement, left, now=self.clock(), event_id=self.ids("evt"))
                if change is None:
                    continue
                try:
                    self.repository.spread(change)
                except StaleAccount:
                    break  # a concurrent settle or a status change: read again in the next round
                settlement, left = change.settlement, left - change.amount
                covered.append(f"{change.reward.reward_id} +{change.amount}" + (" (paid)" if change.fully_paid else ""))
                if left == 0:
                    break
        return f"{email} {unit}: " + (", ".join(covered) or "nothing to spread")
