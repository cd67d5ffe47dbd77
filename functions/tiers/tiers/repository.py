"""The programme's DynamoDB adapter of the repository port (`tiers.ports.TiersRepository`).

Keys: `PROGRAMME` / `HEAD` (how many versions), `VERSION#<effective_from>` (one immutable criteria set each: the one
in force is one Query of at most one item, whatever the number of versions) and `ANNOUNCED#<version>` (its fan-out
timer is set), `WITHDRAWN#<version>` (a version withdrawn before it applied, off its date, for the record); `PROGRAMME#PARTNERS` / `PARTNER#<id>` (the partner list the fan-out pages through). `CERTIFICATION#<id>` / `DEFINED`
(training's certifications, from `CertificationDefined`: the ids criteria may name). `PARTNER#<id>` / `STANDING` (running
totals, tier, pending upgrade, grace period, revision: evaluation reads this one item), `FACT#<kind>#<fact>` (a win of
a deal or an approved registration, recorded once; `<fact>` is the deal id, then `<deal>#<win_revision>` for a deal's
corrected wins; a win's reversal marks it, or records its tombstone when the win has not arrived),
`WINDOW#<exit>#<kind>#<fact>` (the facts still in the trailing window, ordered by the instant they leave it: a slide
reads only what left), `AWARD#<award>`, `HOLDING#<email>#<certification>`
(a person's active awards of one certification), `USER#<email>` (who the emails go to), `HISTORY#<seq>` (newest last),
the side-effect ledger's `EFFECT#<key>`, and the agreement gate's projection (`AGREEMENT`,
contracts.onboarding_agreement_gate). Every read is a key lookup or a partition query; no Scan anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from contracts import onboarding_agreement_gate as agreements
from shared.aws import client
from shared.clock import iso
from shared.dynamo import ConditionFailed, Table, from_item, values
from shared.events import EventDetail
from shared.outbox import outbox_item
from shared.principal import Principal
from tiers.models import (
    Award,
    CriteriaVersion,
    HistoryEntry,
    Holding,
    PartnerUser,
    Standing,
    StandingChange,
    WindowFact,
    WinRecord,
    Withdrawal,
    win_fact_id,
)
from tiers.ports import DuplicateFact, StaleProgramme, StaleStanding

PROGRAMME = "PROGRAMME"
PARTNERS = "PROGRAMME#PARTNERS"


def _partner(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


def _window_key(fact: WindowFact) -> str:
    return f"WINDOW#{iso(fact.exits_at)}#{fact.kind}#{fact.fact_id}"


def _fact_key(kind: str, fact_id: str) -> str:
    return f"FACT#{kind}#{fact_id}"


def _win_item(pk: str, record: WinRecord) -> dict[str, Any]:
    """A win's fact item as a reversal leaves it: the fact and its `counted` flag as recorded (none for a tombstone)."""
    item = {
        "pk": pk,
        "sk": _fact_key("revenue", win_fact_id(record.deal_id, record.win_revision)),
        "entity": "fact",
        "counted": record.counted,
    }
    if record.fact is not None:
        item |= record.fact.model_dump(mode="json")
    assert record.reversal is not None
    return item | {
        "kind": "revenue",
        "deal_id": record.deal_id,
        "win_revision": record.win_revision,
        "reversal": record.reversal.model_dump(mode="json"),
    }


class TiersRepository:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)

    def _query(
        self, pk: str, condition: str, bound: dict[str, Any], *, forward: bool, limit: int
    ) -> list[dict[str, Any]]:
        """One page of one partition under a sort-key condition (`#sk` and `:pk` are supplied)."""
        answer = client("dynamodb").query(
            TableName=self.table.name,
            KeyConditionExpression=f"#pk = :pk AND {condition}",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues=values({":pk": pk} | bound),
            ScanIndexForward=forward,
            Limit=limit,
            ConsistentRead=True,
        )
        return [from_item(item) for item in answer.get("Items", [])]

    # ------------------------------------------------------------- the programme
    def version_in_force(self, at: datetime) -> CriteriaVersion | None:
        found = self._query(
            PROGRAMME,
            "#sk BETWEEN :low AND :high",
            {":low": "VERSION#", ":high": f"VERSION#{at.date().isoformat()}"},
            forward=False,
            limit=1,
        )
        return CriteriaVersion.model_validate(found[0]) if found else None

    def next_version(self, at: datetime) -> CriteriaVersion | None:
        found = self._query(
            PROGRAMME,
            "#sk BETWEEN :after AND :high",
            {":after": f"VERSION#{at.date().isoformat()}~", ":high": "VERSION#~"},
            forward=True,
            limit=1,
        )
        return CriteriaVersion.model_validate(found[0]) if found else None

    def latest_version(self) -> tuple[int, CriteriaVersion | None]:
        head = self.table.get(PROGRAMME, "HEAD")
        latest = self._query(PROGRAMME, "begins_with(#sk, :prefix)", {":prefix": "VERSION#"}, forward=False, limit=1)
        return int((head or {}).get("version_count", 0)), (
            CriteriaVersion.model_validate(latest[0]) if latest else None
        )

    def versions(self) -> list[CriteriaVersion]:
        """Every version (a handful: one per change of the programme's criteria)."""
        return [CriteriaVersion.model_validate(i) for i in self.table.query_all(PROGRAMME, sk_prefix="VERSION#")]

    def version_on(self, day: date) -> CriteriaVersion | None:
        item = self.table.get(PROGRAMME, f"VERSION#{day.isoformat()}")
        return CriteriaVersion.model_validate(item) if item else None

    def withdrawals(self) -> list[Withdrawal]:
        return [Withdrawal.model_validate(i) for i in self.table.query_all(PROGRAMME, sk_prefix="WITHDRAWN#")]

    def withdrawn(self, version_id: str) -> bool:
        return self.table.get(PROGRAMME, f"WITHDRAWN#{version_id}") is not None

    def withdraw_version(self, withdrawal: Withdrawal, *, events: Sequence[EventDetail] = ()) -> None:
        """The version leaves its date (so `version_in_force` never meets it and the date is free) for the record."""
        t, version = self.table, withdrawal.version
        try:
            t.transact(
                [
                    t.op_delete(
                        PROGRAMME,
                        f"VERSION#{version.effective_from.isoformat()}",
                        condition="version_id = :id",
                        condition_values={":id": version.version_id},
                    ),
                    t.op_put(
                        {"pk": PROGRAMME, "sk": f"WITHDRAWN#{version.version_id}", "entity": "withdrawal"}
                        | withdrawal.model_dump(mode="json")
                    ),
                    *(t.op_put(outbox_item(e)) for e in events),
                ]
            )
        except ConditionFailed as failure:
            raise StaleProgramme(version.version_id) from failure

    def require_accepted(self, principal: Principal) -> None:
        agreements.require_accepted(self.table, principal)

    def add_version(self, version: CriteriaVersion, *, expected_count: int, events: Sequence[EventDetail] = ()) -> None:
        t = self.table
        head_condition = "attribute_not_exists(pk)" if expected_count == 0 else "version_count = :expected"
        try:
            t.transact(
                [
                    t.op_put(
                        {"pk": PROGRAMME, "sk": f"VERSION#{version.effective_from.isoformat()}", "entity": "version"}
                        | version.model_dump(mode="json")
                    ),
                    t.op_put(
                        {"pk": PROGRAMME, "sk": "HEAD", "entity": "programme", "version_count": expected_count + 1},
                        condition=head_condition,
                        condition_values={":expected": expected_count} if expected_count else None,
                    ),
                    *(t.op_put(outbox_item(e)) for e in events),
                ]
            )
        except ConditionFailed as failure:
            raise StaleProgramme(version.version_id) from failure

    def partners(self, after: str | None, limit: int) -> tuple[list[str], str | None]:
        """The programme's partner list (`PROGRAMME#PARTNERS`, one small item per partner written at onboarding)."""
        low = f"PARTNER#{after}" if after else "PARTNER#"
        found = self._query(
            PARTNERS, "#sk BETWEEN :low AND :high", {":low": low, ":high": "PARTNER#~"}, forward=True, limit=limit + 1
        )
        ids = [str(i["partner_id"]) for i in found if str(i["partner_id"]) != after][:limit]
        more = len([i for i in found if str(i["partner_id"]) != after]) > limit
        return ids, (ids[-1] if more and ids else None)

    def partner_standings(self, *, limit: int, cursor: str | None) -> tuple[list[Standing], str | None]:
        """One page of the partner list (a Query of `PROGRAMME#PARTNERS`), then their standings in one BatchGetItem."""
        found, next_cursor = self.table.page(PARTNERS, sk_prefix="PARTNER#", limit=limit, cursor=cursor, forward=True)
        ids = [str(i["partner_id"]) for i in found]
        standings = {
            s.partner_id: s
            for s in (Standing.model_validate(i) for i in self.table.get_many([(_partner(p), "STANDING") for p in ids]))
        }
        return [standings[p] for p in ids if p in standings], next_cursor

    def version_announced(self, version_id: str) -> bool:
        return self.table.get(PROGRAMME, f"ANNOUNCED#{version_id}") is not None

    def record_announced(self, version_id: str) -> None:
        item = {"pk": PROGRAMME, "sk": f"ANNOUNCED#{version_id}", "entity": "announcement", "version_id": version_id}
        try:
            self.table.put_new(item)
        except ConditionFailed:
            pass  # another delivery recorded it first (its timer has the same name: one schedule)

    # ------------------------------------------------------------- training's certifications
    def define_certification(self, certification_id: str, name: str, at: datetime) -> bool:
        item = {
            "pk": f"CERTIFICATION#{certification_id}",
            "sk": "DEFINED",
            "entity": "certification",
            "certification_id": certification_id,
            "name": name,
            "defined_at": iso(at),
        }
        return self.table.put_newer(item, order="defined_at", value=iso(at))

    def known_certifications(self, certification_ids: Sequence[str]) -> set[str]:
        keys = [(f"CERTIFICATION#{c}", "DEFINED") for c in dict.fromkeys(certification_ids)]
        return {str(i["certification_id"]) for i in self.table.get_many(keys)} if keys else set()

    # ------------------------------------------------------------- a partner's standing
    def standing(self, partner_id: str) -> Standing | None:
        item = self.table.get(_partner(partner_id), "STANDING")
        return Standing.model_validate(item) if item else None

    def save(self, change: StandingChange) -> None:
        """The standing at its next revision, its events, history and fact items: all or nothing."""
        t, standing = self.table, change.standing
        pk = _partner(standing.partner_id)
        first = standing.revision == 1
        ops = [
            t.op_put(
                {"pk": pk, "sk": "STANDING", "entity": "standing"} | standing.model_dump(mode="json"),
                condition="attribute_not_exists(pk)" if first else "revision = :expected",
                condition_values=None if first else {":expected": standing.revision - 1},
            )
        ]
        fact_at = None
        if change.fact is not None:
            fact = change.fact
            fact_at = len(ops)
            record = {"pk": pk, "sk": _fact_key(fact.kind, fact.fact_id), "entity": "fact", "counted": change.counted}
            ops.append(t.op_put(record | fact.model_dump(mode="json")))
            if change.counted:
                ops.append(
                    t.op_put(
                        {"pk": pk, "sk": _window_key(fact), "entity": "window"} | fact.model_dump(mode="json"),
                        condition=None,
                    )
                )
        if change.reversal is not None:  # its condition failing is a race lost: StaleStanding, read again
            ops.append(
                t.op_put(
                    _win_item(pk, change.reversal),
                    # a tombstone only where nothing is on record; a reversal once (the standing's revision guards
                    # both already: this keeps the item's own rule where it is written)
                    condition="attribute_not_exists(pk)"
                    if change.reversal.fact is None
                    else "attribute_exists(pk) AND attribute_not_exists(reversal)",
                )
            )
        ops += [t.op_delete(pk, _window_key(gone)) for gone in change.exited]
        if change.enrol:
            enrolled = {"pk": PARTNERS, "sk": pk, "entity": "programme_partner", "partner_id": standing.partner_id}
            ops.append(t.op_put(enrolled, condition=None))
        ops += [
            t.op_put(
                {"pk": pk, "sk": f"HOLDING#{h.holder}#{h.certification_id}", "entity": "holding"}
                | h.model_dump(mode="json"),
                condition=None,
            )
            for h in change.holdings
        ]
        ops += [
            t.op_put(
                {"pk": pk, "sk": f"AWARD#{a.award_id}", "entity": "award"} | a.model_dump(mode="json"), condition=None
            )
            for a in change.awards
        ]
        ops += [
            t.op_put({"pk": pk, "sk": f"HISTORY#{h.seq:08d}", "entity": "history"} | h.model_dump(mode="json"))
            for h in change.history
        ]
        ops += [t.op_put(outbox_item(e)) for e in change.events]
        try:
            t.transact(ops)
        except ConditionFailed as failure:
            if fact_at is not None and failure.failed_at(fact_at):
                raise DuplicateFact(change.fact.deal_id if change.fact else "") from failure
            raise StaleStanding(standing.partner_id) from failure

    def history(self, partner_id: str, limit: int) -> list[HistoryEntry]:
        found = self._query(
            _partner(partner_id), "begins_with(#sk, :prefix)", {":prefix": "HISTORY#"}, forward=False, limit=limit
        )
        return [HistoryEntry.model_validate(i) for i in found]

    def window(self, partner_id: str, now: datetime, limit: int) -> tuple[list[WindowFact], datetime | None]:
        """At most `limit` facts that left the window by `now` (a key range: only those are read), then the first
        still ahead (one item): a slide reads what left, never the facts still counted."""
        pk, cut = _partner(partner_id), f"WINDOW#{iso(now)}#~"  # "~" sorts after every kind: all exits at `now`
        exited = self._query(
            pk, "#sk BETWEEN :low AND :high", {":low": "WINDOW#", ":high": cut}, forward=True, limit=limit
        )
        ahead = self._query(pk, "#sk BETWEEN :low AND :high", {":low": cut, ":high": "WINDOW#~"}, forward=True, limit=1)
        following = WindowFact.model_validate(ahead[0]).exits_at if ahead else None
        return [WindowFact.model_validate(i) for i in exited], following

    def win(self, partner_id: str, deal_id: str, win_revision: int) -> WinRecord | None:
        item = self.table.get(_partner(partner_id), _fact_key("revenue", win_fact_id(deal_id, win_revision)))
        if item is None:
            return None
        return WinRecord.model_validate(
            {
                "deal_id": deal_id,
                "win_revision": win_revision,
                "fact": item if "exits_at" in item else None,  # none: a reversal's tombstone
                "counted": bool(item.get("counted")),
                "reversal": item.get("reversal"),
            }
        )

    def is_in_window(self, partner_id: str, fact: WindowFact) -> bool:
        return self.table.get(_partner(partner_id), _window_key(fact)) is not None

    def next_exit_besides(self, partner_id: str, fact: WindowFact) -> datetime | None:
        first = self._query(
            _partner(partner_id), "begins_with(#sk, :prefix)", {":prefix": "WINDOW#"}, forward=True, limit=2
        )
        others = [i for i in first if i["sk"] != _window_key(fact)]
        return WindowFact.model_validate(others[0]).exits_at if others else None

    # ------------------------------------------------------------- awards and people
    def award(self, partner_id: str, award_id: str) -> Award | None:
        item = self.table.get(_partner(partner_id), f"AWARD#{award_id}")
        return Award.model_validate(item) if item else None

    def holding(self, partner_id: str, holder: str, certification_id: str) -> Holding | None:
        item = self.table.get(_partner(partner_id), f"HOLDING#{holder}#{certification_id}")
        return Holding.model_validate(item) if item else None

    def holdings_of(self, partner_id: str, holder: str) -> list[Holding]:
        items = self.table.query_all(_partner(partner_id), sk_prefix=f"HOLDING#{holder}#")
        return [Holding.model_validate(i) for i in items]

    def user(self, partner_id: str, email: str) -> PartnerUser | None:
        item = self.table.get(_partner(partner_id), f"USER#{email}")
        return PartnerUser.model_validate(item) if item else None

    def save_user(self, partner_id: str, user: PartnerUser) -> bool:
        return self.table.put_newer(
            {"pk": _partner(partner_id), "sk": f"USER#{user.email}", "entity": "partner_user"}
            | user.model_dump(mode="json"),
            order="as_of",
            value=iso(user.as_of),
        )

    def partner_admins(self, partner_id: str) -> list[str]:
        users = [PartnerUser.model_validate(i) for i in self.table.query_all(_partner(partner_id), sk_prefix="USER#")]
        return sorted(u.email for u in users if u.active and u.role == "partner-admin")
