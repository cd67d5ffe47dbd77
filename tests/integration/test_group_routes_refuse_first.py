"""Routes of one group (vendor-admin, partner-admin) refuse a caller outside it before they read the body: `{}` or a
body that is not JSON answers the same 403 (code and message) the domain gives for a valid body, never a 400 listing
the fields to fill in, and writes nothing. Routes of partner users (vendor staff have no partner to act for) refuse a
vendor admin the same way. Every mutating route of every app is in ROUTES_OF_A_GROUP, in PARTNER_USER_ROUTES or in
OPEN_ROUTES with the reason it is open, so a new route is classified here before it ships."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contracts.onboarding_agreement_gate import PK as AGREEMENT_PK
from contracts.onboarding_agreement_gate import project_acceptance
from shared.clock import utc_now
from shared.dynamo import Table
from tests.integration.conftest import ROOT, Stack
from tests.support.lambda_events import claims_for

APPS = {  # function id: (API module, its table)
    "OnboardingApiFunction": ("onboarding.api", "OnboardingTable"),
    "DealsApiFunction": ("deals.api", "DealsTable"),
    "MdfApiFunction": ("mdf.api", "MdfTable"),
    "TrainingApiFunction": ("training.api", "TrainingTable"),
    "TiersApiFunction": ("tiers.api", "TiersTable"),
    "RewardsApiFunction": ("rewards.api", "RewardsTable"),
    "ContentApiFunction": ("content.api", "ContentTable"),
    "ApprovalsApiFunction": ("approvals.api", "ApprovalsTable"),
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
PARTNER = "prt_groupgate"


@dataclass(frozen=True)
class Refusal:
    """Who is refused (a partner admin for vendor-admin routes, a plain partner user of the path's partner for
    partner-admin routes) and the domain's answer to them."""

    outsider: str  # "partner-admin", "partner-user" or "vendor-admin": the outsider's own group
    message: str
    code: str = "forbidden"


VENDOR_ONLY = "partner-admin"  # the most a partner user can be is still outside vendor-admin
PARTNER_ADMIN_ONLY = "partner-user"
PARTNER_USERS_ONLY = "vendor-admin"  # vendor staff (no partner id in the token) at their most
NO_ROLE = "no-role"  # signed in, with neither a partner nor a group


def vendor(message: str) -> Refusal:
    return Refusal(VENDOR_ONLY, message)


ONBOARDING_VENDOR = vendor("Only vendor administrators can do this.")
ONBOARDING_PARTNER_ADMIN = Refusal(PARTNER_ADMIN_ONLY, "Only a partner admin can do this.")
MDF_VENDOR = vendor("Only vendor administrators do this.")
TRAINING_VENDOR = vendor("Only vendor administrators can do this.")
TIERS_VENDOR = vendor("Only vendor administrators manage the programme's criteria.")
CAMPAIGNS_VENDOR = vendor("Only vendor administrators manage reward campaigns.")
REWARD_HOLD_VENDOR = vendor("Only vendor administrators hold rewards.")
REWARD_RELEASE_VENDOR = vendor("Only vendor administrators release held rewards.")
REWARD_DECLINE_VENDOR = vendor("Only vendor administrators decline held rewards.")
SPENDING_VENDOR = vendor("Only vendor administrators do this.")
LIBRARY_VENDOR = vendor("Only vendor admins manage the content library.")
KITS_VENDOR = vendor("Only vendor admins manage kits.")
BRAND_PARTNER_ADMIN = Refusal(
    PARTNER_ADMIN_ONLY, "Only your organisation's admins change its brand profile.", code="partner_admin_only"
)

ROUTES_OF_A_GROUP: dict[tuple[str, str, str], Refusal] = {
    ("OnboardingApiFunction", "POST", "/agreements"): ONBOARDING_VENDOR,
    ("OnboardingApiFunction", "PATCH", "/partners/{partner_id}"): ONBOARDING_PARTNER_ADMIN,
    ("OnboardingApiFunction", "POST", "/partners/{partner_id}/users"): ONBOARDING_PARTNER_ADMIN,
    # that partner's admin or a vendor admin: who is removed (the body) is decided after
    ("OnboardingApiFunction", "POST", "/partners/{partner_id}/users/removal"): ONBOARDING_PARTNER_ADMIN,
    ("DealsApiFunction", "POST", "/products"): vendor("Only vendor administrators manage the product list."),
    ("DealsApiFunction", "POST", "/deals/{deal_id}/won/reversal"): vendor("Only vendor staff reverse a won deal."),
    ("MdfApiFunction", "POST", "/mdf/periods"): MDF_VENDOR,
    ("MdfApiFunction", "POST", "/mdf/periods/{period_id}/accrual"): MDF_VENDOR,
    ("MdfApiFunction", "POST", "/mdf/allocations"): MDF_VENDOR,
    ("MdfApiFunction", "POST", "/mdf/adjustments"): MDF_VENDOR,
    ("TrainingApiFunction", "POST", "/training/courses"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/certifications"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/connections"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/connections/{connection_id}/secrets"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/imports"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/imports/{import_id}/submission"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/review/{item_id}/assignment"): TRAINING_VENDOR,
    ("TrainingApiFunction", "POST", "/training/review/{item_id}/discard"): TRAINING_VENDOR,
    ("TiersApiFunction", "POST", "/programme/versions"): TIERS_VENDOR,
    ("TiersApiFunction", "POST", "/programme/versions/{version_id}/withdrawal"): TIERS_VENDOR,
    ("TiersApiFunction", "POST", "/programme/partners/{partner_id}/manual-criteria/{criterion_id}"): TIERS_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/campaigns"): CAMPAIGNS_VENDOR,
    ("RewardsApiFunction", "PATCH", "/rewards/campaigns/{campaign_id}"): CAMPAIGNS_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/campaigns/{campaign_id}/close"): CAMPAIGNS_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/{reward_id}/hold"): REWARD_HOLD_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/{reward_id}/release"): REWARD_RELEASE_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/{reward_id}/decline"): REWARD_DECLINE_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/catalogue"): SPENDING_VENDOR,
    ("RewardsApiFunction", "PATCH", "/rewards/catalogue/{item_id}"): SPENDING_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/redemptions/{redemption_id}/fulfil"): SPENDING_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/redemptions/{redemption_id}/cancel"): SPENDING_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/partners/{partner_id}/tax-form"): SPENDING_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/payout-batches"): SPENDING_VENDOR,
    ("RewardsApiFunction", "POST", "/rewards/payout-batches/{batch_id}/paid"): SPENDING_VENDOR,
    ("ContentApiFunction", "POST", "/content/assets"): LIBRARY_VENDOR,
    ("ContentApiFunction", "POST", "/content/assets/{asset_id}/versions"): LIBRARY_VENDOR,
    ("ContentApiFunction", "PATCH", "/content/assets/{asset_id}"): LIBRARY_VENDOR,
    ("ContentApiFunction", "POST", "/content/assets/{asset_id}/take-down"): LIBRARY_VENDOR,
    ("ContentApiFunction", "POST", "/content/exports"): vendor("Only vendor admins export downloads."),
    ("ContentApiFunction", "POST", "/content/kits"): KITS_VENDOR,
    ("ContentApiFunction", "PATCH", "/content/kits/{kit_id}"): KITS_VENDOR,
    ("ContentApiFunction", "PUT", "/content/brand"): BRAND_PARTNER_ADMIN,
    ("ContentApiFunction", "POST", "/content/brand/logo"): BRAND_PARTNER_ADMIN,
}


def partners_only(message: str, code: str = "forbidden") -> Refusal:
    return Refusal(PARTNER_USERS_ONLY, message, code)


MDF_PARTNERS = partners_only("Only partner users manage fund requests and claims.")
REWARDS_PARTNERS = partners_only("Only partner users redeem rewards.")  # rewards' one check, claims included

# Routes for partner users only: the partner id they act for is the token's, and vendor staff have none.
PARTNER_USER_ROUTES: dict[tuple[str, str, str], Refusal] = {
    ("OnboardingApiFunction", "POST", "/agreements/current/acceptance"): partners_only(
        "Only partner users accept the programme agreement."
    ),
    ("DealsApiFunction", "POST", "/deals"): partners_only("Only partner users register deals."),
    ("MdfApiFunction", "POST", "/mdf/requests"): MDF_PARTNERS,
    ("MdfApiFunction", "POST", "/mdf/requests/{request_id}/revision"): MDF_PARTNERS,
    ("MdfApiFunction", "POST", "/mdf/requests/{request_id}/claim/uploads"): MDF_PARTNERS,
    ("MdfApiFunction", "POST", "/mdf/requests/{request_id}/claim"): MDF_PARTNERS,
    ("RewardsApiFunction", "POST", "/rewards/redemptions"): REWARDS_PARTNERS,
    ("RewardsApiFunction", "POST", "/rewards/claims/uploads"): REWARDS_PARTNERS,
    ("RewardsApiFunction", "POST", "/rewards/claims"): REWARDS_PARTNERS,
    ("RewardsApiFunction", "POST", "/rewards/claims/{claim_id}/resubmit"): REWARDS_PARTNERS,
    ("ContentApiFunction", "POST", "/content/kits/{kit_id}/copies"): partners_only(
        "Only partner users have a brand profile and co-branded copies.", code="partners_only"
    ),
}

PUBLIC = "public: no signed-in user (the route authenticates the request itself, or anyone may send it)"
SIGNED_LINK = "public: a signed link is the credential (verified before anything is read)"
WHOSE_DEAL = (
    "the deal's partner's users and vendor admins (domain.ensure_own): who may act is the stored deal's, so nobody is"
    " refused on the principal alone (another partner's deal, or none, answers 404 after the read)"
)
OPEN_ROUTES: dict[tuple[str, str, str], str] = {
    ("OnboardingApiFunction", "POST", "/applications"): PUBLIC + ": a company applies",
    ("OnboardingApiFunction", "POST", "/applications/{application_id}/confirmation"): SIGNED_LINK,
    ("DealsApiFunction", "POST", "/deals/{deal_id}/stage"): WHOSE_DEAL,
    ("DealsApiFunction", "POST", "/deals/{deal_id}/won"): WHOSE_DEAL,
    ("DealsApiFunction", "POST", "/deals/{deal_id}/lost"): WHOSE_DEAL,
    ("DealsApiFunction", "POST", "/deals/{deal_id}/extension"): WHOSE_DEAL,
    ("TrainingApiFunction", "POST", "/training/webhooks/{connection_id}"): PUBLIC + ": LMS webhook signature",
    ("TrainingApiFunction", "POST", "/xapi/statements"): PUBLIC + ": an LRS client's HTTP Basic credentials",
    # partner users and vendor admins alike; a caller who is neither is refused before the body (tested below)
    ("ContentApiFunction", "POST", "/content/assets/{asset_id}/downloads"): "every library user: a download",
    ("ApprovalsApiFunction", "POST", "/approvals/{approval_id}"): SIGNED_LINK + ": an approver's decision",
}
LIBRARY_USERS = ("ContentApiFunction", "POST", "/content/assets/{asset_id}/downloads")

# Path parameters of the right shape, so that a refusal is the role's and never the id's.
PATH_VALUES = {
    "partner_id": PARTNER,
    "deal_id": "deal_01jgroupgate0000000000000",
    "period_id": "FY27-Q1",
    "connection_id": "lms_" + "0" * 26,
    "import_id": "imp_" + "0" * 26,
    "item_id": "item_" + "0" * 26,  # rewards' catalogue item (training's review item is `rev_`, below)
    "version_id": "v1",
    "criterion_id": "references",
    "campaign_id": "cmp_groupgate",
    "reward_id": "rwd_" + "0" * 32,
    "redemption_id": "rdm_" + "0" * 26,
    "batch_id": "batch_" + "0" * 26,
    "asset_id": "ast_" + "0" * 24,
    "kit_id": "kit_" + "0" * 26,
    "request_id": "mdfreq_" + "0" * 26,
    "claim_id": "clm_" + "0" * 26,
}
TRAINING_ITEM = "rev_" + "0" * 26
BODIES = ("{}", "{not json")  # an empty object (every field missing) and a body that is not JSON at all


def _params(path: str) -> dict[str, str]:
    names = re.findall(r"{(\w+)}", path)
    values = {name: PATH_VALUES[name] for name in names}
    if path.startswith("/training/review/"):
        values["item_id"] = TRAINING_ITEM
    return values


def _outsider(group: str) -> dict[str, str]:
    """A partner's user in `group`; vendor staff (no partner id) for vendor-admin; NO_ROLE: neither."""
    partner_user = group in (VENDOR_ONLY, PARTNER_ADMIN_ONLY)
    return claims_for(
        sub=f"sub-groupgate-{group}",
        email=f"{group}@groupgate.example.com",
        partner_id=PARTNER if partner_user else None,
        groups=[group] if group != NO_ROLE else [],
    )


def _mutating_routes(app: Any) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app.routes.items() for method in methods if method in MUTATING}


@pytest.fixture(scope="module")
def apps(stack: Stack) -> dict[str, Any]:
    return {function_id: stack.load(function_id, module).app for function_id, (module, _) in APPS.items()}


@pytest.fixture(scope="module")
def accepted(stack: Stack, apps: dict[str, Any]) -> None:
    """Both outsiders accepted the current programme agreement wherever one is known (an earlier test in this worker
    may have published one): the refusal asserted is then the route's role check, not the agreement gate."""
    for group in (VENDOR_ONLY, PARTNER_ADMIN_ONLY):
        claims = _outsider(group)
        for function_id, (_, table_id) in APPS.items():
            if function_id in ("OnboardingApiFunction", "ApprovalsApiFunction"):
                continue
            table = Table(stack.ref(table_id))
            current = table.get(AGREEMENT_PK, "CURRENT")
            if current is not None:
                project_acceptance(
                    table, version=current["version"], user_id=claims["sub"], partner_id=PARTNER, accepted_at=utc_now()
                )
        onboarding = apps["OnboardingApiFunction"]
        status, agreement, _ = stack.call(onboarding, "GET", "/agreements/current", claims=claims)
        if status == 200:
            status, body, _ = stack.call(
                onboarding,
                "POST",
                "/agreements/current/acceptance",
                body={"version": agreement["version"]},
                claims=claims,
            )
            assert status == 201, body


def test_every_mutating_route_is_either_of_a_group_or_open_for_a_stated_reason(apps: dict[str, Any]) -> None:
    registered = {(fid, method, path) for fid, app in apps.items() for method, path in _mutating_routes(app)}
    tables = (set(ROUTES_OF_A_GROUP), set(PARTNER_USER_ROUTES), set(OPEN_ROUTES))
    unclassified = registered - set().union(*tables)
    assert not unclassified, f"classify these routes in {Path(__file__).name}: {sorted(unclassified)}"
    stale = set().union(*tables) - registered
    assert not stale, f"no longer registered: {sorted(stale)}"
    assert sum(len(table) for table in tables) == len(set().union(*tables)), "a route is in more than one table"
    assert all(reason for reason in OPEN_ROUTES.values())


def test_every_route_the_api_document_gives_a_group_is_checked_here() -> None:
    """docs/api.md's `### METHOD /path  (group ...)` headings name routes of a group: each is in the table."""
    documented = re.findall(r"^### (POST|PUT|PATCH|DELETE) (\S+)\s+\(group", (ROOT / "docs/api.md").read_text(), re.M)
    assert documented, "docs/api.md names no route of a group"
    tabled = {(method, path) for _, method, path in ROUTES_OF_A_GROUP}
    assert set(documented) <= tabled, sorted(set(documented) - tabled)


def _refused_before_the_body(
    stack: Stack, app: Any, function_id: str, method: str, path: str, claims: dict[str, str], refusal: Refusal
) -> None:
    """`{}` and a body that is not JSON both get the domain's 403 (JSON, no field errors); the table is unchanged."""
    table_id = APPS[function_id][1]
    before = stack.items(table_id)
    for raw_body in BODIES:
        status, body, headers = stack.call(
            app,
            method,
            path,
            _params(path),
            raw_body=raw_body,
            claims=claims,
            headers={"Idempotency-Key": f"groupgate-{uuid.uuid4()}"},
        )
        assert status == 403, (method, path, raw_body, status, body)
        assert headers["Content-Type"] == "application/json"
        assert body == {"code": refusal.code, "message": refusal.message, "errors": []}, (method, path, raw_body)
    assert stack.items(table_id) == before, f"{method} {path} wrote to {table_id}"


@pytest.mark.parametrize(
    ("function_id", "method", "path"), sorted(ROUTES_OF_A_GROUP), ids=lambda part: str(part).strip("/")
)
def test_a_caller_outside_the_group_is_refused_before_the_body_is_read(
    stack: Stack, apps: dict[str, Any], accepted: None, function_id: str, method: str, path: str
) -> None:
    refusal = ROUTES_OF_A_GROUP[(function_id, method, path)]
    _refused_before_the_body(stack, apps[function_id], function_id, method, path, _outsider(refusal.outsider), refusal)


@pytest.mark.parametrize(
    ("function_id", "method", "path"), sorted(PARTNER_USER_ROUTES), ids=lambda part: str(part).strip("/")
)
def test_vendor_staff_are_refused_a_partner_users_route_before_the_body_is_read(
    stack: Stack, apps: dict[str, Any], function_id: str, method: str, path: str
) -> None:
    refusal = PARTNER_USER_ROUTES[(function_id, method, path)]
    assert refusal.outsider == PARTNER_USERS_ONLY
    _refused_before_the_body(stack, apps[function_id], function_id, method, path, _outsider(refusal.outsider), refusal)


def test_a_caller_with_no_partner_and_no_role_is_refused_a_library_download_before_the_body_is_read(
    stack: Stack, apps: dict[str, Any]
) -> None:
    function_id, method, path = LIBRARY_USERS
    refusal = Refusal(NO_ROLE, "Only partner users and vendor admins use the library.")
    _refused_before_the_body(stack, apps[function_id], function_id, method, path, _outsider(NO_ROLE), refusal)
