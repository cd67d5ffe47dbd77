"""Applicants' email confirmation: the signed link (shared.links; the ConfirmationLinks adapter) and its HTML pages.
User text is escaped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from onboarding.models import Application
from shared.links import LinkClaim, Purpose, sign, verify

ACTION = "confirm"
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#1f2328}"
    "button{padding:.6em 1.4em;border:0;border-radius:4px;color:#fff;background:#1a7f37;font-size:1em;cursor:pointer}"
)
HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL carries a signature
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def claim(application_id: str, email: str, expires: int) -> LinkClaim:
    # The id is namespaced so that a confirmation signature can never pass as an approval link's, nor the reverse.
    return LinkClaim(application_id, ACTION, email, expires, purpose=Purpose.APPLICATION_CONFIRMATION)


def link(key: bytes, base_url: str, application: Application, expires: int) -> str:
    email = str(application.contact.email)
    query = urlencode(
        {
            "email": email,
            "expires": str(expires),
            "signature": sign(key, claim(application.application_id, email, expires)),
        }
    )
    return f"{base_url.rstrip('/')}/applications/{application.application_id}/confirmation?{query}"


@dataclass(frozen=True)
class SignedConfirmationLinks:
    """Links signed with the key `key()` returns (read once per container), valid until the application's deadline."""

    key: Callable[[], bytes]
    base_url: str

    def link(self, application: Application) -> str:
        if application.confirm_by is None:
            raise ValueError(f"application {application.application_id} has no confirmation deadline")
        return link(self.key(), self.base_url, application, int(application.confirm_by.timestamp()))


def check(key: bytes, application_id: str, params: dict[str, str], *, now: int) -> LinkClaim:
    """The verified claim; raises shared.links.LinkRejected (`invalid`, `expired`)."""
    try:
        expires = int(params.get("expires", ""))
    except ValueError:
        expires = 0
    verified = claim(application_id, params.get("email", ""), expires)
    verify(key, verified, params.get("signature", ""), now=now)
    return verified


def _page(title: str, content: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width,initial-scale=1'><title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )


def form_page(application: Application, params: dict[str, str]) -> str:
    """GET: what is being confirmed, and a button; mail scanners fetch links, so only the POST confirms."""
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{escape(params.get(name, ''))}'>"
        for name in ("email", "expires", "signature")
    )
    return _page(
        "Confirm your partner application",
        f"<h1>Confirm your partner application</h1><p>Company: <strong>{escape(application.company_name)}</strong> "
        f"({escape(application.domain)})<br>Contact: {escape(application.contact.name)} "
        f"&lt;{escape(str(application.contact.email))}&gt;</p>"
        "<p>Confirm that this is your email address and that you applied. Only then will our partner team review "
        "the application.</p>"
        f"<form method='post'>{hidden}<button type='submit' id='confirm'>Confirm my application</button></form>",
    )


def outcome_page(application: Application) -> str:
    """Where the application stands (after a confirmation, or when the link is opened again)."""
    texts = {
        "unconfirmed": "Your application is not confirmed yet.",
        "pending": "Thank you: your email address is confirmed. Our partner team will review the application and "
        "email you the decision.",
        "approved": "Your application was approved; check your email for your portal account.",
        "rejected": "Your application has been decided; we sent you an email with the decision.",
        "expired": "This application has lapsed. Please apply again.",
    }
    text = texts[application.status]
    title = "Application confirmed" if application.status == "pending" else "Partner application"
    if application.closed_because == "domain_taken":
        title = "Application closed"
        text = (
            f"Thank you for confirming your email address. {application.domain} already has a partner application in "
            "progress, or is already one of our partners, so this application was closed. If you work for that "
            "company, ask the colleague who applied, or contact our partner team."
        )
    return _page(title, f"<h1>{escape(title)}</h1><p id='outcome'>{escape(text)}</p>")


def refusal_page(title: str, message: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")
