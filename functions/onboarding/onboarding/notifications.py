"""Emails onboarding sends to applicants and partner users (rendering only; sending is shared.mail)."""

from __future__ import annotations

from html import escape

from onboarding.models import Application
from shared.mail import Email
from shared.notices import PROGRAMME


def _page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif;max-width:38em">{body}<p>— {PROGRAMME}</p></body></html>'


def confirm_address(application: Application, link: str) -> Email:
    """To an address nobody has verified yet: short, no content of the caller's beyond the company name."""
    name, company = escape(application.contact.name), escape(application.company_name)
    return Email(
        to=(application.contact.email,),
        subject=f"Confirm your partner application for {application.company_name}",
        html=_page(
            [
                f"Hello {name},",
                f"someone applied to join {PROGRAMME} as {company} with this email address. If it was you, confirm "
                f'the application: <a href="{escape(link)}" data-confirmation-link>Confirm my application</a>.',
                "If it was not you, ignore this email: the application lapses unconfirmed and nobody reviews it.",
            ]
        ),
        text=f"Confirm your partner application for {application.company_name}: {link}\n",
    )


def application_received(application: Application) -> Email:
    name, company = escape(application.contact.name), escape(application.company_name)
    return Email(
        to=(application.contact.email,),
        subject=f"We received the partner application from {application.company_name}",
        html=_page(
            [
                f"Hello {name},",
                f"thank you for applying to join {PROGRAMME} with {company}. Your application id is "
                f"<strong>{escape(application.application_id)}</strong>.",
                "Our partner team reviews every application; you will hear from us by email as soon as it is decided.",
            ]
        ),
        text=(
            f"Hello {application.contact.name},\n\nthank you for applying with {application.company_name}. "
            f"Your application id is {application.application_id}. We will email you when it is decided.\n"
        ),
    )


def application_rejected(application: Application, reason: str) -> Email:
    return Email(
        to=(application.contact.email,),
        subject=f"Your partner application for {application.company_name}",
        html=_page(
            [
                f"Hello {escape(application.contact.name)},",
                f"we are sorry: we cannot accept {escape(application.company_name)} into {PROGRAMME} at this time.",
                f"Reason: <strong>{escape(reason)}</strong>",
                "You are welcome to apply again when circumstances change.",
            ]
        ),
        text=f"We cannot accept {application.company_name} at this time.\nReason: {reason}\n",
    )


def application_closed(application: Application, reason: str) -> Email:
    """Closed by the system, not decided: another application for the same company was confirmed first."""
    return Email(
        to=(application.contact.email,),
        subject=f"Your partner application for {application.company_name}",
        html=_page(
            [
                f"Hello {escape(application.contact.name)},",
                "thank you for confirming your email address. We closed this application without reviewing it.",
                f"Reason: <strong>{escape(reason)}</strong>",
                "If you work for that company, ask the colleague who applied, or contact our partner team.",
            ]
        ),
        text=f"We closed your application for {application.company_name} without reviewing it.\nReason: {reason}\n",
    )


def application_expired(application: Application) -> Email:
    return Email(
        to=(application.contact.email,),
        subject=f"Your partner application for {application.company_name} has lapsed",
        html=_page(
            [
                f"Hello {escape(application.contact.name)},",
                f"we could not review {escape(application.company_name)}'s application in time, and we apologise. "
                "Please apply again; we will prioritise it.",
            ]
        ),
        text=f"We could not review {application.company_name}'s application in time. Please apply again.\n",
    )


def invitation(*, email: str, name: str, company: str, password: str, portal_url: str) -> Email:
    signin = portal_url.rstrip("/") + "/#/signin"
    return Email(
        to=(email,),
        subject=f"Your {PROGRAMME} account",
        html=_page(
            [
                f"Hello {escape(name)},",
                f"you have been invited to the partner portal for {escape(company)}.",
                f'Sign in at <a href="{escape(signin)}">{escape(signin)}</a> with your email address and this '
                f"temporary password: <code data-temporary-password>{escape(password)}</code>",
                "You will choose your own password when you first sign in. The temporary password expires in 7 days.",
            ]
        ),
        text=f"Sign in at {signin} with your email and the temporary password {password}\n",
    )
