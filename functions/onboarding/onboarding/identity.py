"""Cognito adapter of the UserDirectory port (onboarding.ports): partner users get an account with a temporary password
that they change at first sign-in."""

from __future__ import annotations

import secrets
import string

from shared.aws import client

_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits)


def temporary_password(length: int = 16) -> str:
    """Random, and satisfies the pool's policy (upper, lower, digit; at least 12 characters)."""
    chars = [secrets.choice(c) for c in _CLASSES]
    alphabet = "".join(_CLASSES)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


class CognitoUserDirectory:
    def __init__(self, user_pool_id: str) -> None:
        self.pool = user_pool_id

    def invite(self, *, email: str, name: str, partner_id: str, role: str) -> str | None:
        """Create the user (or refresh an unused invitation) and return its temporary password.

        Returns None when the account is already in use (the person has signed in): nothing is reset.
        """
        cognito = client("cognito-idp")
        password = temporary_password()
        try:
            cognito.admin_create_user(
                UserPoolId=self.pool,
                Username=email,
                TemporaryPassword=password,
                MessageAction="SUPPRESS",  # the PRM sends its own invitation (branded, with the portal link)
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "name", "Value": name},
                    {"Name": "custom:partner_id", "Value": partner_id},
                ],
            )
        except cognito.exceptions.UsernameExistsException:
            user = cognito.admin_get_user(UserPoolId=self.pool, Username=email)
            attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
            if user.get("UserStatus") != "FORCE_CHANGE_PASSWORD" or attributes.get("custom:partner_id") != partner_id:
                return None
            cognito.admin_set_user_password(UserPoolId=self.pool, Username=email, Password=password, Permanent=False)
        cognito.admin_add_user_to_group(UserPoolId=self.pool, Username=email, GroupName=role)
        return password
