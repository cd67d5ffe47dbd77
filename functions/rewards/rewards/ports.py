"""What the rewards services need from outside (typing.Protocols) and the failures those ports report.

Adapters: `rewards.repository.store.RewardsRepository` (DynamoDB; `EarningRepository` + B's ports), the partner
projection's `rewards.repository.partners.PartnersRepository`, `rewards.workflow.RewardWorkflowsAdapter` (Step
Functions + Scheduler). Fakes for service tests: tests/support/fakes_rewards.py (+ shared ports' in fakes.py).
B appends its own Protocols at the end of this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.ports import Mailer, SideEffectLedger
from shared.proof_files import StoredObject

if TYPE_CHECKING:
    from rewards.domain.lifecycle import Earning, Transition
    from rewards.domain.settlement import Spread
    from rewards.models.earning import (
        Account,
        Campaign,
        CertificationName,
        LedgerEntry,
        PartnerAt,
        PartnerProfile,
        Reward,
        Settlement,
        TierPeriod,
    )
    from shared.mail import Email
    from shared.principal import Principal

__all__ = [
    "BudgetExhausted",
    "CampaignConflict",
    "DuplicateReward",
    "EarningRepository",
    "Mailer",
    "PartnersRepository",
    "ProgrammeAgreement",
    "RewardNotices",
    "RewardWorkflows",
    "SideEffectLedger",
    "SourceReversed",
    "StaleAccount",
    "StaleReward",
]


class StaleAccount(Exception):
    """An account, reward or campaign changed since it was read (optimistic locking): read again and retry."""


class StaleReward(StaleAccount):
    """The reward changed since it was read (its revision moved on)."""


class CampaignConflict(Exception):
    """The campaign changed since it was read (its revision moved on)."""


class BudgetExhausted(Exception):
    """The campaign's budget (`per_partner` False) or the partner's cap (True) has no room for the amount."""

    def __init__(self, per_partner: bool) -> None:
        super().__init__("per-partner cap" if per_partner else "campaign budget")
        self.per_partner = per_partner


class PartnersRepository(Protocol):
    """The partner projection: written by RewardsPartnersFunction (no rewards contracts in its closure)."""

    def save_profile(self, profile: PartnerProfile) -> bool:
        """Write the profile unless a newer one (by `onboarded_at`) is stored; False when nothing changed."""
        ...

    def save_tier_period(self, period: TierPeriod) -> bool:
        """Record one tier change (keyed by its effective time); False when already recorded."""
        ...


class EarningRepository(Protocol):
    """Campaigns, rewards, accounts and their ledgers, read by key or partition Query; every state change is one
    conditional TransactWriteItems with its ledger entries and outbox items."""

    # ------------------------------------------------------------- campaigns
    def create_campaign(self, campaign: Campaign) -> None: ...

    def campaign(self, campaign_id: str) -> Campaign | None: ...

    def campaigns(self, status: str | None = None) -> list[Campaign]:
        """Campaigns of one status (or all): a Query of the status partitions of `gsi1`, bounded."""
        ...

    def closed_campaigns(self, started_by: date) -> list[Campaign]:
        """Closed campaigns that started on or before the day (a fact's), latest first: one bounded Query."""
        ...

    def save_campaign(self, campaign: Campaign, *, expected_revision: int) -> None:
        """Conditional on the revision and on `committed <= budget` (CampaignConflict when either fails: the caller
        reads again); never touches `committed`."""
        ...

    # ------------------------------------------------------------- the partner at a fact's time
    def partner_at(self, partner_id: str, at: datetime) -> PartnerAt: ...

    # ------------------------------------------------------------- rewards
    def reward(self, reward_id: str) -> Reward | None: ...

    def rewards_of_source(self, kind: str, source_id: str, revision: int | None) -> list[Reward]:
        """Every reward of one fact (consistent: the source markers, then the rewards by key)."""
        ...

    def deal_reversal(self, deal_id: str, revision: int) -> dict[str, str] | None:
        """The tombstone of a reversed win (reason, reversed_by, at), if any."""
        ...

    def record_reversal(self, deal_id: str, revision: int, *, reason: str, reversed_by: str, at: datetime) -> bool:
        """Write the tombstone; False when it was already there."""
        ...

    def earn(self, earning: Earning) -> None:
        """Create the reward (attribute_not_exists), its source marker, the account and its entries, the outbox
        items, and (unless declined) add to the campaign's `committed` and the partner's commitment under their
        budget conditions, with a ConditionCheck that the source's tombstone is absent unless `earning.reversed`.
        Raises DuplicateReward (already earned), BudgetExhausted, StaleAccount, or SourceReversed."""
        ...

    def apply(self, transition: Transition) -> None:
        """Write a reward's transition: the reward (conditional on its revision), the account (on its seq), the
        ledger entries, the outbox items, and give back to `committed` when declined or reversed."""
        ...

    def account(self, partner_id: str, email: str, unit: str) -> Account | None: ...

    def accounts(self, partner_id: str, email: str | None = None) -> list[Account]:
        """A partner's accounts (or one person's): one partition Query."""
        ...

    def ledger(self, partner_id: str, email: str, unit: str) -> list[LedgerEntry]: ...

    # ------------------------------------------------------------- spending spread over rewards
    def settlement(self, partner_id: str, email: str, unit: str) -> Settlement:
        """How much of the account's paid bucket is spread over rewards (zero when nothing was yet)."""
        ...

    def unspent_rewards(self, partner_id: str, email: str, unit: str, *, limit: int) -> list[Reward]:
        """The person's oldest available rewards in the unit (at most `limit`; a consistent Query of markers)."""
        ...

    def spread(self, change: Spread) -> None:
        """Write one reward's share of the spending with the settlement, conditionally (StaleAccount when either
        moved on since it was read)."""
        ...

    def history(
        self, partner_id: str, email: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a person's history (rewards, and B's redemptions), newest first (gsi1), as stored items."""
        ...

    def rewards_with_status(
        self, status: str, *, campaign_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Reward], str | None]:
        """One page of the rewards in one status, newest first (a Query of gsi2, bounded), optionally of one
        campaign; a cursor that is not this list's is a ValidationFailed naming `cursor`."""
        ...

    def partner_names(self, partner_ids: list[str]) -> dict[str, str]:
        """Company names by partner id (the projection's profiles; unknown ones left out)."""
        ...

    # ------------------------------------------------------------- certification names (training's projection)
    def save_certification_name(self, name: CertificationName) -> bool:
        """Write the name unless one defined as late or later is stored (a conditional put: redelivered and
        out-of-order CertificationDefined events change nothing); False when nothing changed."""
        ...

    def certification_names(self, certification_ids: list[str]) -> dict[str, str]:
        """Names by certification id, read by key (ids the projection does not know yet are left out)."""
        ...


class ProgrammeAgreement(Protocol):
    """The programme agreement gate (adapter `contracts.onboarding_agreement_gate.AgreementGate`, the API's only: the
    events function does not carry onboarding's contracts layer)."""

    def require_accepted(self, principal: Principal) -> None:
        """403 agreement_required unless a partner user accepted the current programme agreement."""
        ...


class DuplicateReward(Exception):
    """This reward exists already (a redelivered or re-published fact): nothing changes."""


class SourceReversed(Exception):
    """The source's tombstone appeared while earning (the reversal won the race): earn again, reversing at once."""


class RewardWorkflows(Protocol):
    """The reward approval workflow (Step Functions, callback through the approvals service) and the timer that makes
    an approved reward available after the campaign's waiting days."""

    def start_approval(self, reward: Reward, campaign: Campaign) -> str: ...

    def schedule_available(self, reward: Reward, at: datetime, now: datetime) -> str: ...


# ====================================================================== redemptions, payouts, claims (helper B)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from rewards.domain.redemptions import RedemptionChange
    from rewards.models.redemptions import (
        CatalogueItem,
        Claim,
        PayeeYear,
        PayoutBatch,
        Redemption,
        TaxForm,
        Upload,
    )
    from shared.events import EventDetail
    from shared.mail import Email


class StaleRedemption(Exception):
    """A redemption, claim, batch, catalogue item or account changed since it was read: read again and retry."""


class RedemptionsRepository(Protocol):
    """The catalogue, redemptions (with the account, ledger entries, stock and outbox in one transaction), tax forms
    and payees' yearly totals, payout batches, claim uploads and claims; plus what it reads of the earning side."""

    def add_item(self, item: CatalogueItem) -> None: ...

    def item(self, item_id: str) -> CatalogueItem | None: ...

    def items(self) -> list[CatalogueItem]: ...

    def save_item(self, item: CatalogueItem, changes: dict[str, object], *, expected_revision: int) -> CatalogueItem:
        """StaleRedemption when the item changed since it was read."""
        ...

    def redemption(self, redemption_id: str) -> Redemption | None: ...

    def redemptions_listed(self, listed: str, *, limit: int, cursor: str | None) -> tuple[list[Redemption], str | None]:
        """One page of an open list (`rewards.repository.redemptions.list_key`), oldest first."""
        ...

    def held_payouts(
        self, partner_id: str | None, *, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]:
        """One page of the payouts held for a tax form (every partner's, or one partner's), by partner, oldest first."""
        ...

    def company_names(self, partner_ids: list[str]) -> dict[str, str]:
        """The partners' company names the projection records (a partner without one is left out)."""
        ...

    def redemptions_of(
        self, partner_id: str, person: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Redemption], str | None]: ...

    def write(self, change: RedemptionChange, *, expected_revision: int | None = None) -> None:
        """All or nothing; OutOfStock when the item ran out meanwhile, StaleRedemption when anything else moved on."""
        ...

    def account(self, partner_id: str, email: str, unit: str) -> Account | None: ...

    def payee_year(self, partner_id: str, person: str, year: int, currency: str) -> PayeeYear | None: ...

    def tax_form(self, partner_id: str) -> TaxForm | None: ...

    def save_tax_form(self, form: TaxForm) -> None: ...

    def batch(self, batch_id: str) -> PayoutBatch | None: ...

    def batches(self, *, limit: int, cursor: str | None) -> tuple[list[PayoutBatch], str | None]: ...

    def save_batch(self, batch: PayoutBatch) -> None:
        """New (revision 1) or on condition that it is at the revision before (StaleRedemption otherwise)."""
        ...

    def claim_payouts(self, batch_id: str, payouts: list[Redemption]) -> list[Redemption]:
        """Put payouts still approved and unbatched into the batch; returns those it took."""
        ...

    def batch_payouts(self, batch_id: str) -> list[Redemption]:
        """The payouts a batch took that are not paid yet (its gsi2 list; at most a batch's worth)."""
        ...

    def add_upload(self, upload: Upload) -> None: ...

    def uploads(self, file_ids: list[str]) -> dict[str, Upload]: ...

    def claim(self, claim_id: str) -> Claim | None: ...

    def claims_of(self, partner_id: str, *, limit: int, cursor: str | None) -> tuple[list[Claim], str | None]: ...

    def save_claim(self, claim: Claim, events: Sequence[EventDetail] = ()) -> None:
        """New (revision 1) or on condition that it is at the revision before (StaleRedemption otherwise), with
        its events' outbox items in the same write."""
        ...

    def campaign(self, campaign_id: str) -> Campaign | None: ...

    def partner_at(self, partner_id: str, at: datetime) -> PartnerAt: ...


class ProofStorage(Protocol):
    """Claim proof files in the rewards bucket: presigned POST uploads, checks of what arrived, short downloads."""

    upload_expires_seconds: int

    def presigned_upload(self, key: str, content_type: str, max_bytes: int) -> dict[str, object]: ...

    def stored(self, key: str) -> StoredObject | None: ...

    def delete(self, key: str, version_id: str | None = None) -> None: ...

    def download_url(self, key: str, file_name: str, version_id: str | None = None) -> str: ...


class PayoutFiles(Protocol):
    """Payout batch CSV files in the rewards bucket."""

    def put_csv(self, key: str, text: str) -> None: ...

    def download_url(self, key: str, file_name: str) -> str: ...


class ClaimReviews(Protocol):
    """The claim review workflow (Step Functions; the reviewer decides by email link through approvals)."""

    def start_claim_review(self, claim: Claim, *, attempt: int) -> str:
        """Once per claim, round and attempt (a deterministic execution name)."""
        ...


class PayoutApprovals(Protocol):
    """The payout approval workflow (Step Functions; finance decides by email link through approvals)."""

    def start_payout_approval(self, payout: Redemption, year_total: int, form_on_file: bool) -> str:
        """Once per payout (a deterministic execution name)."""
        ...


class ClaimEarner(Protocol):
    """The earning side: an approved claim earns its rule's reward (idempotent: one reward per claim)."""

    def earn_claim(self, claim: Claim, approved_by: str, at: datetime) -> str: ...


class RewardNotices(Protocol):
    """The earner's emails (rewards.notifications.RewardEmails renders them)."""

    def earned(self, reward: Reward) -> Email: ...

    def available(self, reward: Reward) -> Email: ...

    def declined(self, reward: Reward) -> Email: ...

    def reversed(self, reward: Reward) -> Email: ...
