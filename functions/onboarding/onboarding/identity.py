"""Cognito adapter of the UserDirectory port (onboarding.ports): partner users get an account with a temporary password
that they change at first sign-in; a removed user's account is signed out everywhere and disabled."""

from __future__ import annotations

import secrets
import string

from onboarding.ports import DirectoryUnavailable
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
            unused = user.get("UserStatus") == "FORCE_CHANGE_PASSWORD" and user.get("Enabled", True)
            if not unused or attributes.get("custom:partner_id") != partner_id:
                return None  # in use, another partner's, or disabled (a removed user is never re-enabled here)
            cognito.admin_set_user_password(UserPoolId=self.pool, Username=email, Password=password, Permanent=False)
        cognito.admin_add_user_to_group(UserPoolId=self.pool, Username=email, GroupName=role)
        return password

    def revoke(self, email: str) -> bool:
        """Global sign-out (refresh tokens stop working), then disable (no new sign-in; the live identity check refuses
        the account's tokens within its window). Both calls repeat harmlessly, so a retry finishes a partial revoke."""
        from botocore.exceptions import BotoCoreError, ClientError  # loaded with the client (shared.aws: lazy boto3)

        cognito = client("cognito-idp")
        try:
            try:
                cognito.admin_user_global_sign_out(UserPoolId=self.pool, Username=email)
            except cognito.exceptions.NotAuthorizedException:
                pass  # already disabled by an earlier attempt: its tokens are refused anyway; disable again below
            cognito.admin_disable_user(UserPoolId=self.pool, Username=email)
        except cognito.exceptions.UserNotFoundException:
            return False
        except (ClientError, BotoCoreError) as error:
            raise DirectoryUnavailable(str(error)) from error
        return True
