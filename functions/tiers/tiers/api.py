"""The partner programme's HTTP routes (Chalice): parse, call the service, shape the answer. No rules here."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from typing import Any

from shared.adapters import SchedulerTimers
from shared.edge import ApiEdge
from shared.http import bounded_int, current, id_or_400, parse_body, principal_from
from shared.principal import Principal
from tiers.domain.criteria import CriterionStatus
from tiers.domain.standing import Terms
from tiers.models import CriteriaVersion, HistoryEntry, ManualCriterionRequest, VersionRequest, WithdrawalRequest
from tiers.repository import TiersRepository
from tiers.service import ProgrammeStatus, TiersService, TierView
from tiers.settings import ApiSettings
from tiers.workflow import VersionTimersAdapter

SETTINGS = ApiSettings.from_env()
PARTNER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CRITERION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
VERSION_ID = re.compile(r"^v[0-9]{1,6}$")

edge = ApiEdge("prm-tiers", SETTINGS)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once


@cache
def service() -> TiersService:
    # The API evaluates manual criteria at once (a grace period may start: the consumer times and mails it).
    terms = Terms(grace=timedelta(seconds=SETTINGS.grace_seconds), warning_offsets=(), window_days=SETTINGS.window_days)
    timers = SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.workflow_queue_arn)
    return TiersService(
        TiersRepository(SETTINGS.table_name), terms=terms, timers=VersionTimersAdapter(timers, SETTINGS.schedule_group)
    )


def caller() -> Principal:
    """The signed-in user, from the verified token (a partner user's partner id is the token's, never the path's);
    a partner user only once they accepted the current programme agreement (403 agreement_required)."""
    return service().admit(principal_from(current(app)))


# ------------------------------------------------------------------ answers
def criterion(status: CriterionStatus) -> dict[str, Any]:
    """One criterion: its value against its threshold (minor units of `currency` for won revenue), met, and what is
    missing in words."""
    return {
        "kind": status.kind,
        "key": status.key,
        "label": status.label,
        "currency": status.currency,
        "value": status.value,
        "threshold": status.threshold,
        "met": status.met,
        "missing": status.missing,
    }


def tier_view(view: TierView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "tier": {"tier_id": view.tier_id, "name": view.name, "rank": view.index},
        "benefits": view.benefits,
        "met": view.met,
        "criteria": [criterion(c) for c in view.criteria],
        "missing": [c.missing for c in view.criteria if c.missing],
    }


def history_entry(entry: HistoryEntry) -> dict[str, Any]:
    data = entry.model_dump(mode="json", exclude={"seq"})
    return data | {"direction": entry.kind if entry.kind in ("initial", "upgrade", "downgrade") else None}


def status_answer(status: ProgrammeStatus) -> dict[str, Any]:
    standing = status.standing.model_dump(mode="json")
    grace = status.standing.grace
    return {
        "partner_id": standing["partner_id"],
        "company_name": standing["company_name"],
        "tier": (standing["tier"] or {})
        | {"since": standing["tier_since"], "benefits": status.current.benefits if status.current else []},
        "criteria_version": status.version.version_id if status.version else None,
        "window_days": status.window_days,
        "current": tier_view(status.current),
        "next": tier_view(status.next),
        "pending_upgrade": standing["pending"],
        "grace_period": None
        if grace is None
        else {
            "tier": standing["grace"]["tier"],
            "started_at": standing["grace"]["started_at"],
            "ends_at": standing["grace"]["ends_at"],
            "ends_on": grace.ends_at.date().isoformat(),
            "would_become": standing["grace"]["would_become"],
            "missing": grace.missing,
            "criteria_version": grace.criteria_version,
        },
        "history": [history_entry(h) for h in status.history],
    }


def version_answer(version: CriteriaVersion | None) -> dict[str, Any] | None:
    return None if version is None else version.model_dump(mode="json")


# ------------------------------------------------------------------ routes
@app.route("/programme", methods=["GET"])
@handle_errors
def my_programme() -> Any:
    return respond(200, status_answer(service().status(caller())))


@app.route("/programme/partners", methods=["GET"])
@handle_errors
def list_partners() -> Any:
    """The programme's partners (vendor admins): id, company and current tier, in partner id order, one page."""
    principal = caller()
    params = dict(current(app).query_params or {})
    limit = bounded_int(params, "limit", 50, 1, 100)
    standings, cursor = service().partners(principal, limit=limit, cursor=params.get("cursor") or None)
    items = [
        {
            "partner_id": s.partner_id,
            "company_name": s.company_name,
            "tier": None if s.tier is None else s.tier.model_dump(mode="json"),
        }
        for s in standings
    ]
    return respond(200, {"items": items, "next_cursor": cursor})


@app.route("/programme/partners/{partner_id}", methods=["GET"])
@handle_errors
def partner_programme(partner_id: str) -> Any:
    principal = caller()
    partner_id = id_or_400(partner_id, PARTNER_ID, "partner_id")
    return respond(200, status_answer(service().status(principal, partner_id)))


@app.route("/programme/tiers", methods=["GET"])
@handle_errors
def tiers_in_force() -> Any:
    caller()
    version, coming = service().tiers_in_force()
    answer = version_answer(version) or {"version_id": None, "tiers": []}
    coming_answer = (
        None
        if coming is None
        else {"version_id": coming.version_id, "effective_from": coming.effective_from.isoformat()}
    )
    return respond(200, answer | {"next_version": coming_answer})


@app.route("/programme/versions", methods=["GET"])
@handle_errors
def list_versions() -> Any:
    principal = caller()
    items = [version_answer(v) for v in service().versions(principal)]
    withdrawn = [w.model_dump(mode="json") for w in service().withdrawals(principal)]
    return respond(200, {"items": items, "withdrawn": withdrawn})


@app.route("/programme/versions", methods=["POST"])
@handle_errors
def add_version() -> Any:
    principal = caller()
    service().ensure_manages_programme(principal)
    body = parse_body(current(app), VersionRequest)
    return post_once(
        "add_version",
        principal.sub,
        lambda: (201, version_answer(service().add_version(principal, body))),
        body_is_key=True,
    )


@app.route("/programme/versions/{version_id}/withdrawal", methods=["POST"])
@handle_errors
def withdraw_version(version_id: str) -> Any:
    """A version not in force yet is withdrawn, with a reason (kept for the record); 409 version_in_force otherwise."""
    principal = caller()
    service().ensure_manages_programme(principal)
    version_id = id_or_400(version_id, VERSION_ID, "version_id")
    body = parse_body(current(app), WithdrawalRequest)
    return post_once(
        f"withdraw:{version_id}",
        principal.sub,
        lambda: (200, service().withdraw_version(principal, version_id, body.reason).model_dump(mode="json")),
    )


@app.route("/programme/partners/{partner_id}/manual-criteria/{criterion_id}", methods=["POST"])
@handle_errors
def set_manual_criterion(partner_id: str, criterion_id: str) -> Any:
    principal = caller()
    service().ensure_manages_programme(principal)
    partner_id = id_or_400(partner_id, PARTNER_ID, "partner_id")
    criterion_id = id_or_400(criterion_id, CRITERION_ID, "criterion_id")
    body = parse_body(current(app), ManualCriterionRequest)

    def run() -> tuple[int, Any]:
        service().set_manual(principal, partner_id, criterion_id, met=body.met, note=body.note)
        return 200, status_answer(service().status(principal, partner_id))

    return post_once(f"manual:{partner_id}:{criterion_id}", principal.sub, run)
