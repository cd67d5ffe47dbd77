"""Every key of the rewards table (one table: pk/sk, two generic indexes `gsi1` (gsi1pk/gsi1sk) and `gsi2`
(gsi2pk/gsi2sk), a stream for the outbox). Each helper returns the key parts; the repositories are their only users.

Earning (A):
  CAMPAIGN#<id> / CAMPAIGN                 the campaign (committed budget, revision); gsi1pk CAMPAIGNS#<status>,
                                           gsi1sk <starts_on>#<id>: the open campaigns are one bounded Query
  CAMPAIGN#<id> / PARTNER#<pid>            one partner's committed amount (per-partner cap)
  REWARD#<id> / REWARD                     the reward; gsi1pk PERSON#<pid>#<email>, gsi1sk REWARD#<earned_at>#<id>
                                           (a person's history, newest first, shared with B's redemptions, which
                                           have their own range REDEMPTION#<requested_at>#<id>);
                                           gsi2pk REWARDS#<status>, gsi2sk <earned_at>#<id> (vendor staff's lists
                                           by status, newest first: what needs their attention)
  SOURCE#<kind>#<id>[#<rev>] / REWARD#<rid>  a marker per reward of a source, written with the reward: the reversal
                                           finds them with a consistent Query (an index could miss a fresh one)
  SOURCE#deal#<id>#<rev> / TOMBSTONE       the win was reversed: a DealWon arriving later earns and reverses at once
  CERTIFICATION#<id> / NAME               a certification's name (training's CertificationDefined; rule words)
  PARTNER#<pid> / PROFILE                  the partner projection (region, partner type)
  PARTNER#<pid> / TIER#<effective_at>      the partner's tier history (the tier at t: Query <= t, desc, Limit 1)
  PARTNER#<pid> / ACCOUNT#<email>#<unit>   a person's account (buckets, seq); the organisation's totals Query it
  LEDGER#<pid>#<email>#<unit> / ENTRY#<seq:010d>  the account's append-only entries
  UNSPENT#<pid>#<email>#<unit> / <earned_at>#<rid>  a marker per available reward, while it is available (written
                                           and deleted with its status): spending is spread over them oldest first
  PARTNER#<pid> / SETTLED#<email>#<unit>   how much of the account's paid bucket is spread over rewards
  <entity pk> / EFFECT#<key>              side effects done once (shared.effects.SideEffects)
  OUTBOX#<event id> / OUTBOX               events to publish (shared.outbox)
Redemptions (B) use the prefixes REDEMPTION#, PAYOUT#, BATCH#, CATALOGUE#, CLAIM#, TAX#.
"""

from __future__ import annotations

from datetime import datetime

from shared.clock import iso

Key = tuple[str, str]

CAMPAIGN_SK = "CAMPAIGN"
REWARD_SK = "REWARD"
PROFILE_SK = "PROFILE"
TOMBSTONE_SK = "TOMBSTONE"
GSI1 = "gsi1"
GSI2 = "gsi2"


def campaign(campaign_id: str) -> Key:
    return f"CAMPAIGN#{campaign_id}", CAMPAIGN_SK


def campaigns_with_status(status: str) -> str:
    """gsi1pk of campaigns in one status (`open`, `closed`)."""
    return f"CAMPAIGNS#{status}"


def campaign_order(starts_on: str, campaign_id: str) -> str:
    return f"{starts_on}#{campaign_id}"


def partner_commitment(campaign_id: str, partner_id: str) -> Key:
    return f"CAMPAIGN#{campaign_id}", f"PARTNER#{partner_id}"


def reward(reward_id: str) -> Key:
    return f"REWARD#{reward_id}", REWARD_SK


def rewards_with_status(status: str) -> str:
    """gsi2pk of the rewards in one status (every status; vendor staff list pending, on_hold ...)."""
    return f"REWARDS#{status}"


def reward_order(earned_at: datetime, reward_id: str) -> str:
    return f"{iso(earned_at)}#{reward_id}"


def person(partner_id: str, email: str) -> str:
    """gsi1pk of a person's history (rewards and redemptions)."""
    return f"PERSON#{partner_id}#{email.lower()}"


HISTORY_KINDS = ("REWARD", "REDEMPTION")  # a person's history: one gsi1sk range per kind


def history_order(at: datetime, kind: str, record_id: str) -> str:
    """gsi1sk of a history record: `<kind>#<at>#<id>`, so each kind is its own range (begins_with `<kind>#`), newest
    first when Queried backwards: a person's redemptions are one bounded Query whatever their rewards; the whole
    history merges the ranges (rewards.repository.history)."""
    return f"{kind}#{iso(at)}#{record_id}"


def history_range(kind: str) -> str:
    """The gsi1sk prefix of one kind of a person's history records."""
    return f"{kind}#"


def source(kind: str, source_id: str, revision: int | None) -> str:
    return f"SOURCE#{kind}#{source_id}" + (f"#{revision}" if revision is not None else "")


def source_marker(kind: str, source_id: str, revision: int | None, reward_id: str) -> Key:
    return source(kind, source_id, revision), f"REWARD#{reward_id}"


def tombstone(deal_id: str, revision: int) -> Key:
    return source("deal", deal_id, revision), TOMBSTONE_SK


def certification_name(certification_id: str) -> Key:
    return f"CERTIFICATION#{certification_id}", "NAME"


def partner(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


def profile(partner_id: str) -> Key:
    return partner(partner_id), PROFILE_SK


def tier_period(partner_id: str, effective_at: datetime) -> Key:
    return partner(partner_id), f"TIER#{iso(effective_at)}"


def account(partner_id: str, email: str, unit: str) -> Key:
    return partner(partner_id), f"ACCOUNT#{email.lower()}#{unit}"


def accounts_of(email: str | None = None) -> str:
    """Sort-key prefix of a partner's accounts (all of them, or one person's)."""
    return "ACCOUNT#" + (f"{email.lower()}#" if email else "")


def ledger(partner_id: str, email: str, unit: str) -> str:
    return f"LEDGER#{partner_id}#{email.lower()}#{unit}"


def entry(partner_id: str, email: str, unit: str, seq: int) -> Key:
    return ledger(partner_id, email, unit), f"ENTRY#{seq:010d}"


def unspent(partner_id: str, email: str, unit: str) -> str:
    """The partition of a person's available rewards in one unit, oldest first (domain.settlement spreads spending)."""
    return f"UNSPENT#{partner_id}#{email.lower()}#{unit}"


def unspent_marker(partner_id: str, email: str, unit: str, earned_at: datetime, reward_id: str) -> Key:
    return unspent(partner_id, email, unit), f"{iso(earned_at)}#{reward_id}"


def settlement(partner_id: str, email: str, unit: str) -> Key:
    return partner(partner_id), f"SETTLED#{email.lower()}#{unit}"
