"""Content's HTTP edge, the one place every content route module takes it from: the settings (parsed once at cold
start), the Chalice app `prm-content` with its error mapping, JSON answers and idempotent POSTs (shared.edge.ApiEdge),
the request being handled and the signed-in caller behind the programme agreement gate. `content.api` and its
blueprints (`content.api_library`, `content.api_kits`) import it; it imports none of them."""

from __future__ import annotations

from functools import cache
from typing import Any

from content.settings import ApiSettings
from contracts.onboarding_agreement_gate import AgreementGate
from shared.edge import ApiEdge
from shared.http import current, principal_from
from shared.principal import Principal

SETTINGS = ApiSettings.from_env()

edge = ApiEdge("prm-content", SETTINGS)
app = edge.app
handle_errors = edge.errors
respond = edge.respond
post_once = edge.post_once


@cache
def agreement() -> AgreementGate:
    return AgreementGate(SETTINGS.table_name)


def request() -> Any:
    """The request being handled (routes of the app and of its blueprints alike)."""
    return current(app)


def caller() -> Principal:
    """The signed-in user, from the verified token (a partner user's partner id is the token's, never the body's);
    a partner user only once they accepted the current programme agreement (403 agreement_required)."""
    principal = principal_from(request())
    agreement().require_accepted(principal)
    return principal
