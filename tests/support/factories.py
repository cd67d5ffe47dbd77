"""Request bodies the tests send, in one place."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any


def unique_domain(prefix: str = "acme", suffix: str = "com") -> str:
    """A registrable domain no other test uses (a sub-domain of a shared one would collide, by design)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}.{suffix}"


def application_body(domain: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid partner application (POST /applications) for `domain`, with `changes` applied."""
    domain = domain or unique_domain()
    return {
        "company_name": "Acme Networks",
        "website": f"https://www.{domain}/about",
        "country": "GB",
        "partner_type": "reseller",
        "contact_name": "Ada Lovelace",
        "contact_email": f"ada@{domain}",
        "expected_annual_revenue": {"amount_minor": 25_000_000, "currency": "GBP"},
    } | changes


def deal_body(
    domain: str | None = None,
    *,
    company: str | None = None,
    website: str | None = None,
    amount: int = 1_000_000,
    **changes: Any,
) -> dict[str, Any]:
    """A valid deal registration (POST /deals) of a prospect at `domain`, with `changes` applied."""
    domain = domain or unique_domain("prospect", "co.uk")
    return {
        "prospect": {
            "company_name": company or f"Globex {uuid.uuid4().hex[:8]} Ltd",
            "website": website or f"https://www.{domain}/",
            "country": "GB",
            "contact": {"name": "Hank Scorpio", "email": f"hank@{domain}", "title": "CTO"},
        },
        "products": ["NET-FW-100"],
        "estimated_value": {"amount_minor": amount, "currency": "USD"},
        "expected_close_date": (date.today() + timedelta(days=60)).isoformat(),
        "description": "Branch firewall refresh, 40 sites.",
    } | changes


def bus_envelope(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge event as an SQS target receives it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-26T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def partner_onboarded(partner_id: str | None = None, *, country: str = "GB") -> dict[str, Any]:
    """A `PartnerOnboarded` bus event for a new partner (what other contexts project)."""
    partner_id = partner_id or f"prt_{uuid.uuid4().hex[:10]}"
    host = partner_id.replace("_", "-") + ".com"
    detail = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": "2026-11-26T12:00:00.000Z",
        "version": "1",
        "partner_id": partner_id,
        "application_id": "app_x",
        "company_name": f"Reseller {partner_id}",
        "domain": host,
        "country": country,
        "partner_type": "reseller",
        "tier": "Registered",
        "status": "active",
        "primary_contact": {"name": "P", "email": f"p@{host}"},
        "approved_by": "a@example.com",
        "onboarded_at": "2026-11-26T12:00:00.000Z",
    }
    return bus_envelope("prm.onboarding", "PartnerOnboarded", detail)


def agreement_published(version: str, published_at: str = "2026-11-26T12:00:00.000Z") -> dict[str, Any]:
    """A `ProgrammeAgreementPublished` bus event (deals and MDF gate partner routes on the current version)."""
    detail = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": published_at,
        "version": "1",
        "partner_id": "*",
        "agreement_version": version,
        "published_at": published_at,
    }
    return bus_envelope("prm.onboarding", "ProgrammeAgreementPublished", detail)


def agreement_accepted(claims: dict[str, str], version: str) -> dict[str, Any]:
    """A `PartnerAgreementAccepted` bus event for the user the claims describe."""
    detail = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": "2026-11-26T12:00:00.000Z",
        "version": "1",
        "partner_id": claims["custom:partner_id"],
        "agreement_version": version,
        "user_email": claims["email"],
        "user_id": claims["sub"],
        "accepted_at": "2026-11-26T12:00:00.000Z",
    }
    return bus_envelope("prm.onboarding", "PartnerAgreementAccepted", detail)
