"""Enforces in front of moto's Cognito what AWS enforces and moto ignores: IAM authentication of the API,
client WriteAttributes, AllowAdminCreateUserOnly.

Authentication: AWS answers only Cognito's public operations (sign-in, sign-up, the token-authorised self-service
calls, the JWKS) without credentials; every other one (Admin*, ListUsers, groups, pools, clients...) needs a SigV4
signature by an IAM principal. moto answers them all unsigned, and the portal's config.json hands every browser the
moto URL: a signed-in partner could move themselves to another partner or into vendor-admin. So here an
operation that is not public needs a SigV4 Authorization header by the stack's own (dummy) credentials, verified as
AWS verifies it; the list of public operations is botocore's service model (the operations AWS marks noAuth).

The attribute and sign-up rules are read from the pool and app client as provisioned from template.yaml (moto keeps
their configuration), so a pool or client configured otherwise (a test's second pool, say) behaves as AWS would treat
it too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from infrastructure.local import moto_patches

logger = logging.getLogger("prm.local.cognito")

SERVICE = "cognito-idp"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
SIGN_UP_ACTIONS = frozenset({"SignUp", "ConfirmSignUp"})
WRITE_ACTIONS = frozenset({"UpdateUserAttributes", "DeleteUserAttributes"})
# The pool's public keys and OpenID configuration: public in AWS too (API Gateway and clients fetch them unsigned).
WELL_KNOWN_PATH = re.compile(r"/[^/]+/\.well-known/(?:jwks\.json|openid-configuration)")
SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"

MISSING_TOKEN = ("MissingAuthenticationTokenException", "Missing Authentication Token")
UNRECOGNIZED_CLIENT = ("UnrecognizedClientException", "The security token included in the request is invalid.")
SIGNATURE_MISMATCH = (
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key "
    "and signing method. Consult the service documentation for details.",
)


class Refused(Exception):
    """What AWS answers instead of moto: an error type (`__type`) and its message."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _pool_of_client(client_id: str) -> Any | None:
    return next((pool for pool in moto_patches.user_pools() if client_id in pool.clients), None)


def _token_owner(access_token: str) -> tuple[Any, Any] | None:
    """(pool, app client) that issued this access token, or None (moto then refuses the token itself)."""
    for pool in moto_patches.user_pools():
        issued = pool.access_tokens.get(access_token)
        if issued is not None:
            return pool, pool.clients.get(issued[0])
    return None


@functools.cache
def public_actions() -> frozenset[str]:
    """The operations AWS answers without IAM credentials: those botocore's model of cognito-idp marks noAuth."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(SERVICE)
    return frozenset(
        name
        for name in model.operation_names
        if model.operation_model(name).auth_type == "none"
        or "smithy.api#noAuth" in (getattr(model.operation_model(name), "auth", None) or [])
    )


def _signature_fields(authorization: str) -> dict[str, str]:
    """Credential, SignedHeaders and Signature of a SigV4 Authorization header (Refused if it is not one)."""
    algorithm, _, rest = authorization.strip().partition(" ")
    fields = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            fields[name.strip()] = value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if algorithm != SIGV4_ALGORITHM or missing:
        raise Refused(
            "IncompleteSignatureException",
            f"Authorization header requires {SIGV4_ALGORITHM} with 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters. Authorization={authorization.strip()[:80]}",
        )
    return fields


def verify_signature(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    credentials: Mapping[str, str],
) -> None:
    """Raise Refused unless the request carries a SigV4 signature by one of `credentials` (access key -> secret).

    The expected signature is botocore's own SigV4 over the request as received (method, raw URL, the headers it
    names as signed, the body), at the time in its X-Amz-Date. The clock skew AWS allows is not checked.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = list(headers)
    authorization = next((value for name, value in headers if name.lower() == "authorization"), "")
    fields = _signature_fields(authorization)
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise Refused(
            "IncompleteSignatureException", f"Credential is not a SigV4 credential scope: {fields['Credential']}"
        )
    access_key, _, region, service, _ = scope
    secret = credentials.get(access_key)
    if secret is None:
        raise Refused(*UNRECOGNIZED_CLIENT)
    if service != SERVICE:
        raise Refused("InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'.")
    timestamp = next((value for name, value in headers if name.lower() == "x-amz-date"), "")
    if not re.fullmatch(r"\d{8}T\d{6}Z", timestamp.strip()):
        raise Refused(
            "IncompleteSignatureException", "Authorization header requires existence of an X-Amz-Date header."
        )
    signed = {name for name in fields["SignedHeaders"].lower().split(";") if name}
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        if name.lower() in signed:
            request.headers[name] = value  # HTTPHeaders appends: a repeated header stays repeated
    request.context["timestamp"] = timestamp.strip()
    content_sha256 = request.headers.get("X-Amz-Content-SHA256")
    if content_sha256 is not None and content_sha256 != hashlib.sha256(body).hexdigest():
        raise Refused(*SIGNATURE_MISMATCH)  # the body must be the one signed (no UNSIGNED-PAYLOAD)
    signer = SigV4Auth(Credentials(access_key, secret), service, region)
    try:
        canonical_request = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical_request), request)
        named = signer.signed_headers(signer.headers_to_sign(request))
    except Exception as error:  # whatever botocore cannot sign was not signed by the stack: refused, not a 500
        raise Refused(*SIGNATURE_MISMATCH) from error
    if named != ";".join(sorted(signed)):
        raise Refused(*SIGNATURE_MISMATCH)  # it named a header it did not send, or one SigV4 never signs
    if not hmac.compare_digest(expected.encode(), fields["Signature"].encode("utf-8", "replace")):
        raise Refused(*SIGNATURE_MISMATCH)


def check(action: str, request: dict[str, Any]) -> None:
    """Raise Refused where AWS would refuse this Cognito call and moto would not."""
    if action in SIGN_UP_ACTIONS:
        pool = _pool_of_client(str(request.get("ClientId", "")))
        admin_only = ((pool.extended_config if pool else {}).get("AdminCreateUserConfig") or {}).get(
            "AllowAdminCreateUserOnly"
        )
        if admin_only:
            raise Refused("NotAuthorizedException", "SignUp is not permitted for this user pool")
    elif action in WRITE_ACTIONS:
        owner = _token_owner(str(request.get("AccessToken", "")))
        if owner is None or owner[1] is None:
            return
        allowed = owner[1].extended_config.get("WriteAttributes")
        if allowed is None:  # a client without WriteAttributes may write every writable attribute (AWS default)
            return
        if action == "UpdateUserAttributes":
            names = [str(item.get("Name")) for item in request.get("UserAttributes") or [] if isinstance(item, dict)]
        else:
            names = [str(name) for name in request.get("UserAttributeNames") or []]
        if any(name not in allowed for name in names):
            raise Refused("NotAuthorizedException", "A client attempted to write unauthorized attribute")


def guard_cognito(app: Any, credentials: Mapping[str, str]) -> Any:
    """Install the guard on moto's cognito-idp Flask app (its CORS handling still applies to refusals).

    `credentials` maps the access keys the stack signs with to their secrets.
    """
    from flask import Response
    from flask import request as flask_request

    def before_request() -> Any:
        request = moto_patches.normalize_request(flask_request)  # moto's Request: the URL as it arrived (raw_url)
        if request.method == "OPTIONS":
            # A CORS preflight runs nothing in AWS; moto would run the action an OPTIONS request names, unsigned.
            return Response(status=200)  # flask_cors (moto's) adds the preflight headers
        if WELL_KNOWN_PATH.fullmatch(request.path):
            return None  # the pool's public keys and OpenID configuration
        action = moto_patches.cognito_action(request)  # the action moto will run, not the one a header seems to name
        authorization = request.headers.get("Authorization", "").strip()
        try:
            if authorization:
                # AWS checks a signature whenever one is sent, on public operations too.
                verify_signature(
                    method=request.method,
                    url=request.raw_url,
                    headers=list(request.headers.items()),
                    body=request.get_data(cache=True),
                    credentials=credentials,
                )
            elif action not in public_actions():
                raise Refused(*MISSING_TOKEN)
            if action in SIGN_UP_ACTIONS | WRITE_ACTIONS:
                try:
                    body = json.loads(request.get_data(cache=True) or b"{}")
                except ValueError:
                    return None  # moto answers malformed bodies itself
                check(action, body if isinstance(body, dict) else {})
        except Refused as refused:
            logger.info("refused %s as AWS would: %s", action, refused.message)
            payload = json.dumps({"__type": refused.error_type, "message": refused.message})
            return Response(
                payload,
                status=400,
                content_type="application/x-amz-json-1.1",
                headers={"x-amzn-ErrorType": refused.error_type},
            )
        return None

    app.before_request(before_request)
    return app


def guarded_moto_server(
    ip_address: str,
    port: int,
    credentials: Mapping[str, str] | None = None,
    middleware: Callable[[Any], Any] | None = None,
) -> Any:
    """moto's ThreadedMotoServer, with the Cognito guard in front of its cognito-idp backend.

    `credentials` (access key -> secret) sign the calls AWS answers only for IAM principals: by default the stack's.
    `middleware` wraps the whole WSGI application (the cost meter's call counter), when given.
    """
    if credentials is None:
        from infrastructure.local.stack import DUMMY_CREDENTIALS

        credentials = {DUMMY_CREDENTIALS["aws_access_key_id"]: DUMMY_CREDENTIALS["aws_secret_access_key"]}
    accepted = dict(credentials)

    def wrap(service: str, app: Any) -> Any:
        # "cognitoidp" is moto's name for the cognito-idp backend.
        return guard_cognito(app, accepted) if service == "cognitoidp" else app

    return moto_patches.moto_server(ip_address, port, wrap, middleware)
