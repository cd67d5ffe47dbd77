"""Signed approval links: HMAC-SHA256 over the approval id, decision, approver and expiry; constant-time checks."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

from shared.aws import client


class LinkRejected(Exception):
    """The link was tampered with or has expired; `reason` is `invalid` or `expired`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaim:
    approval_id: str
    decision: str
    approver: str
    expires: int


def _message(claim: LinkClaim) -> bytes:
    return "\n".join([claim.approval_id, claim.decision, claim.approver.lower(), str(claim.expires)]).encode()


def sign(key: bytes, claim: LinkClaim) -> str:
    return hmac.new(key, _message(claim), hashlib.sha256).hexdigest()


def verify(key: bytes, claim: LinkClaim, signature: str, *, now: int) -> None:
    """Raise LinkRejected unless `signature` is this claim's and it has not expired."""
    if not hmac.compare_digest(sign(key, claim).encode(), (signature or "").encode("utf-8", "replace")):
        raise LinkRejected("invalid")
    if now >= claim.expires:
        raise LinkRejected("expired")


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
