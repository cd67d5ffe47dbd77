"""LMS connections: a named sender with signing secrets (Standard Webhooks `whsec_...`, also the xAPI Basic password).

A secret is 24 random bytes, answered once as `whsec_<base64>`; rotation adds a new one and keeps the previous valid
for 24 hours, so an LMS can switch without losing deliveries."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime, timedelta

from shared.errors import Conflict, FieldError
from training.domain.common import NewId
from training.models import Connection, ConnectionSecret

PREFIX = "whsec_"
OVERLAP = timedelta(hours=24)
MAX_SECRETS = 5  # secrets valid at once: a rotation beyond this is refused (never a secret retired early)


def display(secret: ConnectionSecret) -> str:
    return PREFIX + secret.value


def _secret(random_bytes: bytes, now: datetime) -> ConnectionSecret:
    if len(random_bytes) < 24:
        raise ValueError("a secret needs 24 random bytes")
    return ConnectionSecret(value=base64.b64encode(random_bytes).decode(), created_at=now)


def new_connection(name: str, *, random_bytes: bytes, by: str, now: datetime, new_id: NewId) -> tuple[Connection, str]:
    """The connection and its first secret, as shown once."""
    secret = _secret(random_bytes, now)
    connection = Connection(
        connection_id=new_id("lms"), name=name, secrets=[secret], created_by=by, created_at=now, revision=1
    )
    return connection, display(secret)


def active(connection: Connection, now: datetime) -> list[ConnectionSecret]:
    """The secrets a delivery may be signed with now, newest first."""
    live = [s for s in connection.secrets if s.retires_at is None or s.retires_at > now]
    return sorted(live, key=lambda s: s.created_at, reverse=True)


def rotate(connection: Connection, *, random_bytes: bytes, now: datetime) -> tuple[Connection, str]:
    """A new secret; the ones still valid stay valid for 24 hours more at most (retired ones are dropped). With
    MAX_SECRETS valid already, refused (Conflict `limit_reached`): dropping one would end a secret the answer of an
    earlier rotation said was valid until its `previous_valid_until`."""
    kept = [
        s if s.retires_at is not None else s.model_copy(update={"retires_at": now + OVERLAP})
        for s in active(connection, now)
    ]
    if len(kept) >= MAX_SECRETS:
        soonest = min(s.retires_at for s in kept if s.retires_at is not None)
        raise Conflict(
            f"The connection already has {MAX_SECRETS} valid secrets; rotate again once one retires"
            f" ({soonest.strftime('%Y-%m-%dT%H:%M:%SZ')}).",
            code="limit_reached",
            errors=[FieldError("secrets", f"at most {MAX_SECRETS} valid at once")],
        )
    secret = _secret(random_bytes, now)
    secrets = [secret, *kept]
    rotated = connection.model_copy(update={"secrets": secrets, "revision": connection.revision + 1})
    return rotated, display(secret)


def password_matches(connection: Connection, presented: str, now: datetime) -> bool:
    """HTTP Basic for xAPI: the password is one of the connection's active secrets (constant-time comparison)."""
    candidate = presented.encode()
    return any(hmac.compare_digest(candidate, display(s).encode()) for s in active(connection, now))
