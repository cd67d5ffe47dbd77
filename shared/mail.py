"""Outgoing email through SES (v2)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from shared.aws import client


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    html: str
    text: str


def send(sender: str, email: Email) -> str:
    """Send one email; returns the SES message id."""
    answer = client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": list(email.to)},
        Content={
            "Simple": {
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                },
            }
        },
    )
    return str(answer["MessageId"])


PROGRAMME = "Example Vendor Partner Network"


def notice(to: str, subject: str, lines: list[str], link: str, link_text: str) -> Email:
    """A short notification to a partner user: plain lines (escaped) and one link into the portal."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    html = (
        '<!doctype html><html><body style="font-family:sans-serif;max-width:38em">'
        f'{paragraphs}<p><a href="{escape(link)}">{escape(link_text)}</a></p><p>— {PROGRAMME}</p></body></html>'
    )
    return Email(to=(to,), subject=subject, html=html, text="\n".join([*lines, link]))
