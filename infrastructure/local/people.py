"""Acting as the PRM's people against a running local stack: sign in, call the API, read mail, follow approval links.

Demo seeding and the end-to-end tests use it, so both go through exactly the paths a person would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

Mail = dict[str, Any]


@dataclass
class Session:
    email: str
    id_token: str
    refresh_token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


class People:
    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.http = requests.Session()

    # ------------------------------------------------------------- API
    def api(
        self,
        method: str,
        path: str,
        *,
        session: Session | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> requests.Response:
        all_headers = (session.headers if session else {}) | (headers or {})
        return self.http.request(
            method, f"{self.stack.api_url}{path}", json=json, data=data, headers=all_headers, timeout=30
        )

    # ------------------------------------------------------------- identity
    @property
    def pool_id(self) -> str:
        return str(self.stack.resource("PartnerUserPool"))

    @property
    def client_id(self) -> str:
        return str(self.stack.resource("PortalUserPoolClient"))

    def create_user(
        self, email: str, password: str, *, groups: list[str], name: str, partner_id: str | None = None
    ) -> None:
        """An account with a permanent password (vendor staff, demo users)."""
        cognito = self.stack.client("cognito-idp")
        attributes = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ]
        if partner_id:
            attributes.append({"Name": "custom:partner_id", "Value": partner_id})
        try:
            cognito.admin_create_user(
                UserPoolId=self.pool_id, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS"
            )
        except cognito.exceptions.UsernameExistsException:
            pass
        cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=password, Permanent=True)
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=self.pool_id, Username=email, GroupName=group)

    def sign_in(self, email: str, password: str, *, new_password: str | None = None) -> Session:
        """USER_PASSWORD_AUTH as the portal does; answers NEW_PASSWORD_REQUIRED when `new_password` is given."""
        cognito = self.stack.client("cognito-idp")
        answer = cognito.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            if new_password is None:
                raise RuntimeError(f"{email} must choose a new password first")
            answer = cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=answer["Session"],
                ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password},
            )
        result = answer["AuthenticationResult"]
        return Session(email=email, id_token=result["IdToken"], refresh_token=result.get("RefreshToken"))

    def refresh(self, session: Session) -> None:
        """A fresh ID token for a long-running script (REFRESH_TOKEN_AUTH, as the portal does before the old one
        expires); the session is updated in place, so every holder of it goes on."""
        if session.refresh_token is None:
            raise RuntimeError(f"{session.email} has no refresh token")
        answer = self.stack.client("cognito-idp").initiate_auth(
            ClientId=self.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": session.refresh_token},
        )
        session.id_token = answer["AuthenticationResult"]["IdToken"]

    # ------------------------------------------------------------- mail
    def wait_for_mail(self, predicate: Callable[[Mail], bool], *, timeout: float = 20.0, count: int = 1) -> list[Mail]:
        """The first `count` captured emails (oldest first) that match, waiting for the PRM to send them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in reversed(self.stack.mail()) if predicate(m)]
            if len(found) >= count:
                return found[:count]
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} matching email(s), found {len(found)}")
            time.sleep(0.1)

    @staticmethod
    def to(address: str, *, subject: str = "", containing: str = "") -> Callable[[Mail], bool]:
        return lambda m: (
            address.lower() in [d.lower() for d in m["destinations"]]
            and subject in m["subject"]
            and containing in m["body"]
        )

    @staticmethod
    def links(mail: Mail) -> dict[str, str]:
        """Approval links of an approver's email, by decision (not other signed links, such as proof files)."""
        found = {}
        for href in re.findall(r"href='([^']+)'", mail["body"]) + re.findall(r'href="([^"]+)"', mail["body"]):
            url = unescape(href)
            parsed = urlparse(url)
            decision = parse_qs(parsed.query).get("decision")
            if decision and "/approvals/" in parsed.path:
                found[decision[0]] = url
        return found

    @staticmethod
    def temporary_password(mail: Mail) -> str:
        match = re.search(r"data-temporary-password>([^<]+)<", mail["body"])
        if not match:
            raise ValueError("no temporary password in this email")
        return unescape(match.group(1))

    def decide(self, link: str, *, reason: str = "", amount: str | None = None) -> requests.Response:
        """Open an approval link (the confirmation page), then submit its form as a browser would."""
        page = self.http.get(link, timeout=30)
        if page.status_code != 200:
            return page
        fields = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text))
        prefilled = re.search(r"<input id='amount' name='amount'[^>]* value='([^']*)'>", page.text)
        if prefilled:  # a browser submits the amount field as prefilled (the full amount) unless the approver types
            fields["amount"] = prefilled.group(1)
        fields = {k: unescape(v) for k, v in fields.items()} | {"reason": reason}
        if amount is not None:  # what the approver typed into the amount field (partial approval)
            fields["amount"] = amount
        return self.http.post(link.split("?", 1)[0], data=fields, timeout=30)

    def confirm_application(self, email: str, application_id: str) -> requests.Response:
        """The applicant opens the emailed confirmation link (a page) and presses its button (the POST confirms)."""
        [mail] = self.wait_for_mail(self.to(email, containing=f"/applications/{application_id}/confirmation"))
        href = re.search(r'href="([^"]+)" data-confirmation-link', mail["body"])
        if not href:
            raise ValueError("no confirmation link in this email")
        link = unescape(href.group(1))
        page = self.http.get(link, timeout=30)
        if page.status_code != 200:
            return page
        fields = {
            k: unescape(v) for k, v in re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text)
        }
        return self.http.post(link.split("?", 1)[0], data=fields, timeout=30)
