"""Request bodies the tests send, in one place."""

from __future__ import annotations

import uuid
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
