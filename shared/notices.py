"""Notices to partner people, signed with the programme's name: configuration (template parameter ProgrammeName),
validated when a function that sends them starts (this module is imported by the modules that build its mail)."""

from __future__ import annotations

from html import escape
from typing import Annotated

from pydantic import Field

from shared.mail import Email
from shared.settings import Settings

# Shown in subjects and in HTML text: one line, and nothing a page would read as markup.
ProgrammeName = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[^<>\x00-\x1f\x7f]+$")]


class BrandingSettings(Settings):
    programme_name: ProgrammeName


PROGRAMME = BrandingSettings.from_env().programme_name


def notice(to: str, subject: str, lines: list[str], link: str, link_text: str) -> Email:
    """A short notification to a partner user: plain lines (escaped) and one link into the portal."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    html = (
        '<!doctype html><html><body style="font-family:sans-serif;max-width:38em">'
        f'{paragraphs}<p><a href="{escape(link)}">{escape(link_text)}</a></p><p>— {escape(PROGRAMME)}</p></body></html>'
    )
    return Email(to=(to,), subject=subject, html=html, text="\n".join([*lines, link]))
