"""The earning half of the rewards table (`rewards.ports.EarningRepository`): campaigns, rewards with their source
markers and tombstones, accounts, ledger entries and the outbox, each state change one conditional transaction.
Every read is a key lookup or a partition Query (the key layout is in `rewards.repository.keys`); no Scan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
from rewards.ports import BudgetExhausted, CampaignConflict, DuplicateReward, SourceReversed, StaleAccount, StaleReward
from rewards.repository import keys
from rewards.repository.history import history_page
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table, from_item, to_item, values
from shared.outbox import outbox_item
from shared.paging import decode_cursor, encode_cursor

MAX_CAMPAIGNS = 500  # campaigns are few: a Query of one status partition reads at most this many
STATUS_PAGE_READS = 5  # one page of rewards by status (filtered by campaign) reads at most this many Query pages
STATUS_READ_SIZE = 100  # items a filtered Query page evaluates


def reward_item(reward: Reward) -> dict[str, Any]:
    pk, sk = keys.reward(reward.reward_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "reward",
        "gsi1pk": keys.person(reward.partner_id, reward.person_email),
        "gsi1sk": keys.history_order(reward.earned_at, "REWARD", reward.reward_id),
        "gsi2pk": keys.rewards_with_status(reward.status),
        "gsi2sk": keys.reward_order(reward.earned_at, reward.reward_id),
    } | reward.model_dump(mode="json")


def unspent_op(table: Table, reward: Reward) -> dict[str, Any]:
    """Keep the reward's unspent marker in step with its status: present exactly while it is available."""
    pk, sk = keys.unspent_marker(
        reward.partner_id, reward.person_email, reward.unit, reward.earned_at, reward.reward_id
    )
    if reward.status == "available":
        return table.op_put({"pk": pk, "sk": sk, "entity": "unspent", "reward_id": reward.reward_id}, condition=None)
    return table.op_delete(pk, sk)


def account_item(account: Account) -> dict[str, Any]:
    pk, sk = keys.account(account.partner_id, account.person_email, account.unit)
    return {"pk": pk, "sk": sk, "entity": "account"} | account.model_dump(mode="json")


def entry_item(entry: LedgerEntry) -> dict[str, Any]:
    pk, sk = keys.entry(entry.partner_id, entry.person_email, entry.unit, entry.seq)
    return {"pk": pk, "sk": sk, "entity": "ledger_entry"} | entry.model_dump(mode="json")


def campaign_item(campaign: Campaign) -> dict[str, Any]:
    pk, sk = keys.campaign(campaign.campaign_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "campaign",
        "gsi1pk": keys.campaigns_with_status(campaign.status),
        "gsi1sk": keys.campaign_order(campaign.starts_on.isoformat(), campaign.campaign_id),
    } | campaign.model_dump(mode="json")


class EarningStore:
    """Mixin base of `rewards.repository.store.RewardsRepository` (B's RedemptionStore shares `self.table`)."""

    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    # ------------------------------------------------------------- campaigns
    def create_campaign(self, campaign: Campaign) -> None:
        try:
            self.table.put_new(campaign_item(campaign))
        except ConditionFailed as failure:
            raise CampaignConflict(campaign.campaign_id) from failure

    def campaign(self, campaign_id: str) -> Campaign | None:
        item = self.table.get(*keys.campaign(campaign_id))
        return Campaign.model_validate(item) if item else None

    def campaigns(self, status: str | None = None) -> list[Campaign]:
        found: list[Campaign] = []
        for each in [status] if status else ["open", "closed"]:
            start: dict[str, Any] | None = None
            while len(found) < MAX_CAMPAIGNS:
                page, start = self.table.query(
                    keys.campaigns_with_status(each),
                    index=keys.GSI1,
                    key_names=("gsi1pk", "gsi1sk"),
                    start_key=start,
                    limit=MAX_CAMPAIGNS,
                )
                found += [Campaign.model_validate(item) for item in page]
                if not start:
                    break
        return found[:MAX_CAMPAIGNS]

    def closed_campaigns(self, started_by: date) -> list[Campaign]:
        """Closed campaigns that started on or before `started_by` (a fact's day), latest start first: one bounded
        Query of the closed partition of `gsi1` (a fact earns under a campaign closed after the fact's time)."""
        answer = self.table._client.query(
            TableName=self.table.name,
            IndexName=keys.GSI1,
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk <= :high",
            ExpressionAttributeValues=values(
                {":pk": keys.campaigns_with_status("closed"), ":high": f"{started_by.isoformat()}#~"}
            ),
            ScanIndexForward=False,
            Limit=MAX_CAMPAIGNS,
        )
        return [Campaign.model_validate(from_item(item)) for item in answer.get("Items", [])]

    def save_campaign(self, campaign: Campaign, *, expected_revision: int) -> None:
        """Every field but `committed` (which earning moves concurrently), conditional on the revision and on the
        budget still covering what is committed (an earning racing a budget cut: the caller reads again and refuses)."""
        fields = {k: v for k, v in campaign_item(campaign).items() if k not in {"pk", "sk", "committed"}}
        fields |= {name: None for name in Campaign.model_fields if name not in fields and name != "committed"}
        try:
            self.table.update(
                *keys.campaign(campaign.campaign_id),
                set_fields=fields,
                condition="revision = :expected AND committed <= :budget",
                condition_values={":expected": expected_revision, ":budget": campaign.budget},
            )
        except ConditionFailed as failure:
            raise CampaignConflict(campaign.campaign_id) from failure

    # ------------------------------------------------------------- the partner at a fact's time
    def partner_at(self, partner_id: str, at: datetime) -> PartnerAt:
        profile_item = self.table.get(*keys.profile(partner_id))
        profile = PartnerProfile.model_validate(profile_item) if profile_item else None
        pk, high = keys.tier_period(partner_id, at)
        answer = self.table._client.query(
            TableName=self.table.name,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues=values({":pk": pk, ":low": "TIER#", ":high": high}),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        tiers = [TierPeriod.model_validate(from_item(i)) for i in answer.get("Items", [])]
        return PartnerAt(
            partner_id=partner_id,
            region=profile.region if profile else None,
            partner_type=profile.partner_type if profile else None,
            tier_id=tiers[0].tier_id if tiers else None,
        )

    # ------------------------------------------------------------- rewards
    def reward(self, reward_id: str) -> Reward | None:
        item = self.table.get(*keys.reward(reward_id))
        return Reward.model_validate(item) if item else None

    def rewards_of_source(self, kind: str, source_id: str, revision: int | None) -> list[Reward]:
        markers = self.table.query_all(keys.source(kind, source_id, revision), sk_prefix="REWARD#")
        found = self.table.get_many([keys.reward(str(m["reward_id"])) for m in markers])
        return sorted((Reward.model_validate(i) for i in found), key=lambda r: r.reward_id)

    def deal_reversal(self, deal_id: str, revision: int) -> dict[str, str] | None:
        item = self.table.get(*keys.tombstone(deal_id, revision))
        return {k: str(item[k]) for k in ("reason", "reversed_by", "reversed_at")} if item else None

    def record_reversal(self, deal_id: str, revision: int, *, reason: str, reversed_by: str, at: datetime) -> bool:
        pk, sk = keys.tombstone(deal_id, revision)
        item = {
            "pk": pk,
            "sk": sk,
            "entity": "tombstone",
            "deal_id": deal_id,
            "win_revision": revision,
            "reason": reason,
            "reversed_by": reversed_by,
            "reversed_at": iso(at),
        }
        try:
            self.table.put_new(item)
        except ConditionFailed:
            return False
        return True

    def _account_op(self, account: Account, expected_seq: int | None) -> dict[str, Any]:
        if expected_seq is None:
            return self.table.op_put(account_item(account))
        return self.table.op_put(
            account_item(account), condition="seq = :expected", condition_values={":expected": expected_seq}
        )

    def _commitment_ops(self, reward: Reward, delta: int, *, limits: Earning | None) -> tuple[dict[str, Any], ...]:
        """Add `delta` (negative: give back) to the campaign's and the partner's commitment; when earning, under the
        budget and cap conditions (`committed <= limit - amount`)."""
        campaign_pk, campaign_sk = keys.campaign(reward.campaign_id)
        _, partner_sk = keys.partner_commitment(reward.campaign_id, reward.partner_id)
        campaign_condition, campaign_values = "attribute_exists(pk)", {":delta": delta}
        partner_condition, partner_values = None, {":delta": delta, ":zero": 0}
        if limits is not None:
            campaign_condition += " AND committed <= :limit"
            campaign_values[":limit"] = limits.budget - delta
            if limits.per_partner_cap is not None:
                # room = cap - amount: a missing item (nothing committed yet) passes only when the amount fits the cap
                room = limits.per_partner_cap - delta
                partner_values[":cap"] = room
                partner_condition = (
                    "attribute_not_exists(committed) OR committed <= :cap"
                    if room >= 0
                    else "attribute_exists(committed) AND committed <= :cap"  # never holds: committed >= 0 > room
                )
        campaign = {
            "TableName": self.table.name,
            "Key": to_item({"pk": campaign_pk, "sk": campaign_sk}),
            "UpdateExpression": "SET committed = committed + :delta",
            "ConditionExpression": campaign_condition,
            "ExpressionAttributeValues": values(campaign_values),
        }
        partner: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": to_item({"pk": campaign_pk, "sk": partner_sk}),
            "UpdateExpression": (
                "SET committed = if_not_exists(committed, :zero) + :delta, entity = :entity, "
                "campaign_id = :campaign, partner_id = :partner"
            ),
            "ExpressionAttributeValues": values(
                partner_values
                | {":entity": "partner_commitment", ":campaign": reward.campaign_id, ":partner": reward.partner_id}
            ),
        }
        if partner_condition:
            partner["ConditionExpression"] = partner_condition
        return {"Update": campaign}, {"Update": partner}

    def earn(self, earning: Earning) -> None:
        t, reward = self.table, earning.reward
        marker_pk, marker_sk = keys.source_marker(
            reward.source.kind, reward.source.id, reward.source.revision, reward.reward_id
        )
        ops = [
            t.op_put(reward_item(reward)),
            t.op_put(
                {"pk": marker_pk, "sk": marker_sk, "entity": "source_marker", "reward_id": reward.reward_id},
                condition=None,
            ),
            self._account_op(earning.account, earning.expected_seq),
            *[t.op_put(entry_item(e)) for e in earning.entries],
        ]
        if reward.status == "available":
            ops.append(unspent_op(t, reward))
        budget_at = cap_at = tombstone_at = -1
        if earning.committed:
            budget_at, cap_at = len(ops), len(ops) + 1
            ops += self._commitment_ops(reward, earning.committed, limits=earning)
        if reward.source.kind == "deal" and not earning.reversed_at_once and reward.source.revision is not None:
            tombstone_at = len(ops)
            ops.append(
                t.op_check(
                    *keys.tombstone(reward.source.id, reward.source.revision), condition="attribute_not_exists(pk)"
                )
            )
        ops += [t.op_put(outbox_item(e)) for e in earning.events]
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if failure.failed_at(0):
                raise DuplicateReward(reward.reward_id) from failure
            if failure.failed_at(tombstone_at):
                raise SourceReversed(reward.source.id) from failure
            if failure.failed_at(budget_at):
                raise BudgetExhausted(per_partner=False) from failure
            if failure.failed_at(cap_at):
                raise BudgetExhausted(per_partner=True) from failure
            raise StaleAccount(reward.reward_id) from failure

    def apply(self, transition: Transition) -> None:
        t, reward = self.table, transition.reward
        ops = [
            t.op_put(
                reward_item(reward),
                condition="revision = :expected",
                condition_values={":expected": transition.expected_revision},
            ),
            self._account_op(transition.account, transition.expected_seq),
            *[t.op_put(entry_item(e)) for e in transition.entries],
        ]
        if reward.status == "available" or transition.was_available:
            ops.append(unspent_op(t, reward))
        if reward.status == "reversed" and reward.paid_amount:
            # what was spread over it goes back to be spread again: the clawback is paid back by the next rewards
            pk, sk = keys.settlement(reward.partner_id, reward.person_email, reward.unit)
            ops.append(
                {
                    "Update": {
                        "TableName": t.name,
                        "Key": to_item({"pk": pk, "sk": sk}),
                        "UpdateExpression": "SET settled = settled - :amount",
                        "ConditionExpression": "settled >= :amount",
                        "ExpressionAttributeValues": values({":amount": reward.paid_amount}),
                    }
                }
            )
        if transition.released:
            ops += self._commitment_ops(reward, -transition.released, limits=None)
        ops += [t.op_put(outbox_item(e)) for e in transition.events]
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if failure.failed_at(0):
                raise StaleReward(reward.reward_id) from failure
            raise StaleAccount(reward.reward_id) from failure

    def rewards_with_status(
        self, status: str, *, campaign_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Reward], str | None]:
        """One page of the rewards in `status`, newest first (gsi2 `REWARDS#<status>`), optionally of one campaign
        (a filter: bounded to STATUS_PAGE_READS Query pages; a short page still carries the cursor to go on)."""
        pk = keys.rewards_with_status(status)
        names = {"pk", "sk", "gsi2pk", "gsi2sk"}
        start = decode_cursor(cursor, key_names=names, partition=("gsi2pk", pk)) if cursor else None
        found: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for _ in range(STATUS_PAGE_READS):
            request: dict[str, Any] = {
                "TableName": self.table.name,
                "IndexName": keys.GSI2,
                "KeyConditionExpression": "gsi2pk = :pk",
                "ScanIndexForward": False,
                "Limit": STATUS_READ_SIZE if campaign_id else limit - len(found),
            }
            expression_values: dict[str, Any] = {":pk": pk}
            if campaign_id:
                request["FilterExpression"] = "campaign_id = :campaign"
                expression_values[":campaign"] = campaign_id
            request["ExpressionAttributeValues"] = values(expression_values)
            if start:
                request["ExclusiveStartKey"] = to_item(start)
            answer = self.table._client.query(**request)
            page = [from_item(i) for i in answer.get("Items", [])]
            room = limit - len(found)
            if len(page) > room:  # more matched than the page holds: continue after the last one shown
                found += page[:room]
                last = {name: found[-1][name] for name in names}
                break
            found += page
            evaluated = answer.get("LastEvaluatedKey")
            last = from_item(evaluated) if evaluated else None
            if last is None or len(found) >= limit:
                break
            start = last
        rewards = [Reward.model_validate(item) for item in found]
        return rewards, (encode_cursor({k: str(v) for k, v in last.items()}) if last else None)

    def partner_names(self, partner_ids: list[str]) -> dict[str, str]:
        """Company names of the partners (from the projection's profiles); partners without one are left out."""
        unique = sorted(set(partner_ids))
        items = self.table.get_many([keys.profile(p) for p in unique]) if unique else []
        return {str(i["partner_id"]): str(i["company_name"]) for i in items if i.get("company_name")}

    # ------------------------------------------------------------- certification names (training's projection)
    def save_certification_name(self, name: CertificationName) -> bool:
        pk, sk = keys.certification_name(name.certification_id)
        item = {"pk": pk, "sk": sk, "entity": "certification_name"} | name.model_dump(mode="json")
        return self.table.put_newer(item, order="defined_at", value=iso(name.defined_at))

    def certification_names(self, certification_ids: list[str]) -> dict[str, str]:
        unique = sorted(set(certification_ids))
        items = self.table.get_many([keys.certification_name(c) for c in unique]) if unique else []
        return {str(i["certification_id"]): str(i["certification_name"]) for i in items}

    # ------------------------------------------------------------- accounts and history
    def account(self, partner_id: str, email: str, unit: str) -> Account | None:
        item = self.table.get(*keys.account(partner_id, email, unit))
        return Account.model_validate(item) if item else None

    # ------------------------------------------------------------- spending spread over rewards (domain.settlement)
    def settlement(self, partner_id: str, email: str, unit: str) -> Settlement:
        item = self.table.get(*keys.settlement(partner_id, email, unit))
        if item:
            return Settlement.model_validate(item)
        return Settlement(partner_id=partner_id, person_email=email, unit=unit)

    def unspent_rewards(self, partner_id: str, email: str, unit: str, *, limit: int) -> list[Reward]:
        """The person's oldest available rewards in `unit` (a consistent Query of their markers, then the rewards)."""
        answer = self.table._client.query(
            TableName=self.table.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values({":pk": keys.unspent(partner_id, email, unit)}),
            ConsistentRead=True,
            Limit=limit,
        )
        ids = [str(from_item(i)["reward_id"]) for i in answer.get("Items", [])]
        found = {r.reward_id: r for r in map(Reward.model_validate, self.table.get_many([keys.reward(i) for i in ids]))}
        return [found[i] for i in ids if i in found]

    def spread(self, change: Spread) -> None:
        """One reward covered by more spending: the reward (on its revision), its marker (gone once it is paid), the
        settlement (on what was settled) and RewardPaid, in one transaction."""
        t, reward, settlement = self.table, change.reward, change.settlement
        pk, sk = keys.settlement(settlement.partner_id, settlement.person_email, settlement.unit)
        ops = [
            t.op_put(
                reward_item(reward),
                condition="revision = :expected",
                condition_values={":expected": change.expected_revision},
            ),
            t.op_put(
                {"pk": pk, "sk": sk, "entity": "settlement"} | settlement.model_dump(mode="json"),
                condition="attribute_not_exists(pk) OR settled = :expected"
                if change.expected_settled == 0
                else "settled = :expected",
                condition_values={":expected": change.expected_settled},
            ),
        ]
        if change.paid is not None:
            ops += [unspent_op(t, reward), t.op_put(outbox_item(change.paid))]
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            raise StaleAccount(reward.reward_id) from failure

    def accounts(self, partner_id: str, email: str | None = None) -> list[Account]:
        items = self.table.query_all(keys.partner(partner_id), sk_prefix=keys.accounts_of(email))
        return [Account.model_validate(i) for i in items]

    def ledger(self, partner_id: str, email: str, unit: str) -> list[LedgerEntry]:
        items = self.table.query_all(keys.ledger(partner_id, email, unit), sk_prefix="ENTRY#")
        return [LedgerEntry.model_validate(i) for i in items]

    def history(
        self, partner_id: str, email: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The person's rewards and redemptions, newest first (two bounded Queries merged: repository.history)."""
        return history_page(self.table, partner_id, email, limit=limit, cursor=cursor)
