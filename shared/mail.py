"""Outgoing email through SES (v2)."""

from __future__ import annotations

from dataclasses import dataclass

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
