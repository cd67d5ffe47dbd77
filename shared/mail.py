"""Outgoing email through SES (v2): the message as a value, and sending it (branded notices: shared.notices)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.aws import client
from shared.text import for_display, header_safe


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    html: str
    text: str


def send(sender: str, email: Email) -> str:
    """Send one email; returns the SES message id.

    Whatever the parts hold, the subject goes out as one header-safe line (no CR, LF, NUL: no header injection)
    and the bodies without direction overrides or other invisible controls (text people typed is shown).
    """
    answer = client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": list(email.to)},
        Content={
            "Simple": {
                "Subject": {"Data": header_safe(email.subject), "Charset": "UTF-8"},
                "Body": {
                    "Html": {"Data": for_display(email.html), "Charset": "UTF-8"},
                    "Text": {"Data": for_display(email.text), "Charset": "UTF-8"},
                },
            }
        },
    )
    return str(answer["MessageId"])
