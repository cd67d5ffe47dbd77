"""Signed links: HMAC-SHA256 over the link's purpose, its subject, the action, the holder and the expiry; constant-time
checks. The purpose is inside the signed message, so a link signed for one purpose (an approval decision) can never
be used as another (a proof download), even where subjects look alike."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from urllib.parse import urlencode

from shared.aws import client


class LinkRejected(Exception):
    """The link was tampered with or has expired; `reason` is `invalid` or `expired`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Purpose(StrEnum):
    """What a link may be used for; each page verifies with its own purpose only."""

    APPROVAL = "approval-decision"
    PROOF_DOWNLOAD = "proof-download"
    APPLICATION_CONFIRMATION = "application-confirmation"


@dataclass(frozen=True)
class LinkClaim:
    approval_id: str  # the link's subject: an approval id, a proof file, an application
    decision: str  # the action the link offers
    approver: str  # who holds the link
    expires: int
    purpose: Purpose = field(kw_only=True)


def _message(claim: LinkClaim) -> bytes:
    parts = [claim.purpose.value, claim.approval_id, claim.decision, claim.approver.lower(), str(claim.expires)]
    return "\n".join(parts).encode()


def sign(key: bytes, claim: LinkClaim) -> str:
    return hmac.new(key, _message(claim), hashlib.sha256).hexdigest()


# Links emailed before purposes were signed (release 0.1) carried the purpose in the subject instead: an approval id
# alone (ids are [A-Za-z0-9_-], never ':'), `proof:<request>:<file>` and `application-confirmation:<id>`. Those
# namespaces never overlap, so accepting them keeps a link in someone's inbox working across the upgrade without
# letting one purpose pass for another. Remove with the next major version.
_LEGACY_SUBJECT = {
    Purpose.APPROVAL: "{}",
    Purpose.PROOF_DOWNLOAD: "proof:{}",
    Purpose.APPLICATION_CONFIRMATION: "application-confirmation:{}",
}


def _legacy_signature(key: bytes, claim: LinkClaim) -> str:
    subject = _LEGACY_SUBJECT[claim.purpose].format(claim.approval_id)
    parts = [subject, claim.decision, claim.approver.lower(), str(claim.expires)]
    return hmac.new(key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def verify(key: bytes, claim: LinkClaim, signature: str, *, now: int) -> None:
    """Raise LinkRejected unless `signature` is this claim's and it has not expired."""
    given = (signature or "").encode("utf-8", "replace")
    current = hmac.compare_digest(sign(key, claim).encode(), given)
    legacy = hmac.compare_digest(_legacy_signature(key, claim).encode(), given)
    if not (current or legacy):
        raise LinkRejected("invalid")
    if now >= claim.expires:
        raise LinkRejected("expired")


REFUSED_LINK = {"expired": "This link has expired.", "invalid": "This link is not valid."}


def proof_link_refusal(key: bytes, subject: str, query: Mapping[str, str], *, now: int) -> str | None:
    """Why a signed proof-download link (its query: decision "download", approver, expires, signature) does not open
    `subject`: "invalid" or "expired" (REFUSED_LINK words them); None when it does."""
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        expires = 0
    claim = LinkClaim(
        subject, query.get("decision", ""), query.get("approver", ""), expires, purpose=Purpose.PROOF_DOWNLOAD
    )
    try:
        if claim.decision != "download":
            raise LinkRejected("invalid")
        verify(key, claim, query.get("signature", ""), now=now)
    except LinkRejected as rejected:
        return rejected.reason
    return None


def link_query(key: bytes, claim: LinkClaim) -> str:
    return urlencode(
        {
            "decision": claim.decision,
            "approver": claim.approver,
            "expires": str(claim.expires),
            "signature": sign(key, claim),
        }
    )


@cache
def signing_key(secret_arn: str) -> bytes:
    """The link-signing key from Secrets Manager, read once per container."""
    secret = client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    if len(secret) < 32:
        raise RuntimeError("approval link key is too short")
    return secret.encode()
