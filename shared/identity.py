"""Live identity: a verified token is not enough; its user must still exist, be enabled, belong to the same partner
and still be in every group (role) the token claims."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import Unauthorized, Unavailable
from shared.principal import claimed_groups

# Statuses of a user who may hold tokens: signed up and confirmed, or signed in through a federated provider.
ACTIVE_STATUSES = frozenset({"CONFIRMED", "EXTERNAL_PROVIDER"})
# A removed or disabled user is refused within this many seconds on every route (one look-up per user and window).
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 1024
GROUPS_PAGE = 60  # AdminListGroupsForUser's largest page


@dataclass(frozen=True)
class Account:
    """What the user pool says about a user now."""

    sub: str
    enabled: bool
    status: str
    partner_id: str | None
    groups: frozenset[str] = frozenset()  # the groups the user is in now (a token may claim no other)
    email: str | None = None  # the user's address now (None: not read)


Lookup = Callable[[str], Account | None]  # username or alias -> the account, or None when there is no such user


class IdentityRevoked(Unauthorized):
    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class IdentityUnavailable(Unavailable):
    def __init__(self) -> None:
        super().__init__(
            message="Your sign-in could not be checked right now; nothing was changed. Try again shortly.",
            code="identity_unavailable",
        )


class LiveIdentity:
    """Checks the user behind verified claims against the pool, remembering each answer for at most `max_age` s."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._max_age = max_age
        self._max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, Account | None]] = OrderedDict()

    def account(self, sub: str, username: str) -> Account | None:
        """The pool's answer for this user, fetched again once the remembered one is `max_age` old."""
        now = self._clock()
        remembered = self._seen.get(sub)
        if remembered is not None and now - remembered[0] < self._max_age:
            return remembered[1]
        found = self._lookup(username)
        self._seen[sub] = (now, found)
        self._seen.move_to_end(sub)
        while len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)  # the least recently fetched
        return found

    def check(self, claims: Mapping[str, Any]) -> None:
        """Raise IdentityRevoked unless the claims' user still exists, is enabled and active, with the same partner,
        and is still in every group the claims name (a user added to a group gets its role at their next sign-in)."""
        sub = str(claims.get("sub") or "")
        # The username names the account whatever its email is now (the email alias would follow a changed address).
        username = str(claims.get("cognito:username") or claims.get("email") or "")
        if not sub or not username:
            raise IdentityRevoked("Sign-in required.")
        found = self.account(sub, username)
        if found is None or found.sub != sub:  # deleted (a new account with the same email has another sub)
            raise IdentityRevoked("This account no longer exists. Sign in again.")
        if not found.enabled or found.status not in ACTIVE_STATUSES:
            raise IdentityRevoked("This account is disabled. Sign in again.")
        claimed_email = str(claims.get("email") or "").lower()
        if found.email is not None and claimed_email != found.email.lower():  # the principal's email must be true
            raise IdentityRevoked("Your email address changed since you signed in. Sign in again.")
        if (claims.get("custom:partner_id") or None) != found.partner_id:
            raise IdentityRevoked("Your organisation changed since you signed in. Sign in again.")
        if claimed_groups(claims.get("cognito:groups")) - found.groups:  # removed from a group: its role is gone
            raise IdentityRevoked("Your roles changed since you signed in. Sign in again.")


def cognito_lookup(user_pool_id: str) -> Lookup:
    """AdminGetUser, then AdminListGroupsForUser (every page), on the pool (boto3 is loaded by then: every route
    also reads its table)."""

    def lookup(username: str) -> Account | None:
        from botocore.exceptions import BotoCoreError, ClientError

        from shared.aws import client

        cognito = client("cognito-idp")
        try:
            user = cognito.admin_get_user(UserPoolId=user_pool_id, Username=username)
            groups = groups_of(cognito, user_pool_id, str(user["Username"]))  # its own username, not the alias
        except cognito.exceptions.UserNotFoundException:  # deleted (possibly between the two calls)
            return None
        except (ClientError, BotoCoreError) as error:
            raise IdentityUnavailable() from error  # fail closed: never let an unchecked token through
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return Account(
            sub=str(attributes.get("sub", "")),
            enabled=bool(user.get("Enabled", False)),
            status=str(user.get("UserStatus", "")),
            partner_id=attributes.get("custom:partner_id") or None,
            groups=groups,
            email=attributes.get("email"),
        )

    return lookup


def groups_of(cognito: Any, user_pool_id: str, username: str) -> frozenset[str]:
    """Every group the user is in now, following AdminListGroupsForUser's NextToken to the last page."""
    found: set[str] = set()
    token: str | None = None
    while True:
        page = cognito.admin_list_groups_for_user(
            UserPoolId=user_pool_id, Username=username, Limit=GROUPS_PAGE, **({"NextToken": token} if token else {})
        )
        found.update(str(group["GroupName"]) for group in page.get("Groups", []))
        token = page.get("NextToken")
        if not token:
            return frozenset(found)
