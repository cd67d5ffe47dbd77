"""Verifies Cognito ID tokens exactly as API Gateway's Cognito user pool authorizer does, and shapes the claims it passes on."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jwt

JwksFetcher = Callable[[], dict[str, Any]]

# The times a claim may carry: those a date can show (years 1 to 9999), as API Gateway passes exp and iat on as dates.
EARLIEST_TIME = -62135596800.0  # 0001-01-01T00:00:00Z
LATEST_TIME = 253402300799.0  # 9999-12-31T23:59:59Z


class TokenRejected(Exception):
    """The request carries no valid token for this authorizer (API Gateway answers 401 UNAUTHORIZED)."""

    # $context.error.message of API Gateway's UNAUTHORIZED answer: what a Cognito authorizer says of any bad token...
    gateway_message = "Unauthorized"


class TokenExpired(TokenRejected):
    """A genuine token past its expiry: the same 401 UNAUTHORIZED, whose message says so (a client refreshes)."""

    # ...except an expired one (the text API Gateway's Cognito user pool authorizer gives).
    gateway_message = "The incoming token has expired"


class CognitoTokenVerifier:
    """RS256 signature against the pool's JWKS, then iss, token_use == "id", aud and exp, like a REST Cognito authorizer."""

    def __init__(
        self,
        *,
        region: str,
        user_pool_id: str,
        client_ids: Collection[str],
        fetch_jwks: JwksFetcher,
        identity_header: str = "Authorization",
        clock: Callable[[], float] = time.time,
        id_token_seconds: Mapping[str, float] | None = None,
    ) -> None:
        self.identity_header = identity_header
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.client_ids = frozenset(client_ids)
        # Each app client's IdTokenValidity, from the template. moto_patches makes moto's `exp` say the same (it signed
        # every ID token for an hour); this check still holds if a restored app client was made with other settings.
        self.id_token_seconds = dict(id_token_seconds or {})
        self._fetch_jwks = fetch_jwks
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                # Unknown kid: refresh once (Cognito rotates keys rarely; moto never does).
                jwks = self._fetch_jwks()
                self._keys = {
                    key["kid"]: jwt.PyJWK.from_dict(key, algorithm="RS256").key
                    for key in jwks.get("keys", [])
                    if key.get("kty") == "RSA" and "kid" in key
                }
            key = self._keys.get(kid)
        if key is None:
            raise TokenRejected("token signed with an unknown key")
        return key

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The verified claims of the token in an Authorization header value ("Bearer <token>" or the bare token)."""
        if not authorization or not authorization.strip():
            raise TokenRejected("no token")
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenRejected(f"malformed token: {error}") from error
        if header.get("alg") != "RS256":
            raise TokenRejected(f"algorithm {header.get('alg')!r} is not accepted")
        key = self._key(str(header.get("kid")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={
                    "require": ["exp", "iss", "token_use"],
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_exp": False,
                },
                leeway=0,
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(f"invalid token: {error}") from error
        # A well-signed token can still carry odd claims; the authorizer refuses them (401), it does not fail (500).
        expires = _time_claim(claims, "exp")
        issued = _time_claim(claims, "iat") if "iat" in claims else None
        if expires <= self._clock():  # checked here so tests can move the clock
            raise TokenExpired("token expired")
        if claims.get("token_use") != "id":
            raise TokenRejected("not an ID token")
        audience = claims.get("aud")
        if not isinstance(audience, str) or audience not in self.client_ids:
            raise TokenRejected("token issued to another app client")
        lifetime = self.id_token_seconds.get(audience)
        if lifetime is not None and (issued is None or issued + lifetime <= self._clock()):
            raise TokenExpired("token expired (the app client's IdTokenValidity)")
        return claims


def _time_claim(claims: dict[str, Any], name: str) -> float:
    """A NumericDate claim as a finite number of seconds a date can show (no bool, string, NaN, infinity, 1e20)."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"{name} is not a number")
    # Compared as Python numbers first: float(10**400) would itself overflow.
    if not (isinstance(value, int) or math.isfinite(value)) or not EARLIEST_TIME <= value <= LATEST_TIME:
        raise TokenRejected(f"{name} is not a time a date can show")
    return float(value)


def _java_date(epoch: Any) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(float(epoch)))


def api_gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as a REST API passes them in requestContext.authorizer.claims: every value a string.

    exp and iat become Java-style dates ("Fri Jul 29 18:52:53 UTC 2016"), lists (cognito:groups) are joined with
    commas, booleans are "true"/"false", as API Gateway renders them.
    """
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if name in {"exp", "iat"} and isinstance(value, int | float):
            shaped[name] = _java_date(value)
        elif isinstance(value, bool):
            shaped[name] = "true" if value else "false"
        elif isinstance(value, list):
            shaped[name] = ",".join(str(item) for item in value)
        elif isinstance(value, dict):
            shaped[name] = json.dumps(value)
        else:
            shaped[name] = str(value)
    return shaped


_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def id_token_seconds(client_properties: Mapping[str, Any]) -> float:
    """How long Cognito honours an app client's ID tokens: IdTokenValidity in TokenValidityUnits (default 1 hour)."""
    if client_properties.get("IdTokenValidity") is None:
        return 3600.0
    units = str((client_properties.get("TokenValidityUnits") or {}).get("IdToken") or "hours")
    return float(client_properties["IdTokenValidity"]) * _UNIT_SECONDS[units]
