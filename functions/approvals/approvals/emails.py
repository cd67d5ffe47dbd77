"""The email an approver receives: the request's summary and one signed link per decision the request offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from approvals.domain import earlier_text
from approvals.models import Approval
from approvals.pages import line_value
from shared.links import LinkClaim, Purpose, link_query
from shared.mail import Email

INTRO = {
    "request": "Your decision is needed.",
    "reminder": "Reminder: this is still waiting for your decision.",
    "escalation": "Escalated: nobody has decided this yet, so it now comes to you as well.",
}
SUBJECT_PREFIX = {"request": "Approval needed", "reminder": "Reminder", "escalation": "Escalated"}
BUTTONS = {
    "approve": ("Approve", "#1a7f37"),
    "reject": ("Reject", "#b42318"),
    "return": ("Return for more information", "#9a6700"),
}


def approval_links(approval: Approval, approver: str, *, key: bytes, base_url: str, expires: int) -> dict[str, str]:
    base = f"{base_url.rstrip('/')}/approvals/{approval.approval_id}"
    return {
        decision: f"{base}?{link_query(key, LinkClaim(approval.approval_id, decision, approver, expires, purpose=Purpose.APPROVAL))}"
        for decision in approval.decisions
    }


@dataclass(frozen=True)
class SignedDecisionLinks:
    """The DecisionLinks adapter: links signed with the key `key()` returns (read once per container), valid for
    `ttl_seconds` from the moment the email is sent."""

    key: Callable[[], bytes]
    base_url: str
    ttl_seconds: int

    def for_approver(self, approval: Approval, approver: str, *, now: datetime) -> dict[str, str]:
        expires = int(now.timestamp()) + self.ttl_seconds
        return approval_links(approval, approver, key=self.key(), base_url=self.base_url, expires=expires)


def approval_email(approval: Approval, approver: str, links: dict[str, str]) -> Email:
    rows = "".join(
        f"<tr><th style='text-align:left;padding:2px 12px 2px 0'>{escape(line.label)}</th><td>{line_value(line)}</td></tr>"
        for line in approval.summary
    )
    earlier = earlier_text(approval)
    button = "display:inline-block;padding:8px 16px;margin-right:8px;border-radius:4px;color:#fff;text-decoration:none"
    buttons = "".join(
        f"<a data-decision='{decision}' style='{button};background:{BUTTONS[decision][1]}' "
        f"href='{escape(link)}'>{BUTTONS[decision][0]}…</a>"
        for decision, link in links.items()
    )
    step = f"<p>{escape(earlier)}</p>" if earlier else ""
    html = (
        "<!doctype html><html><body style='font-family:sans-serif;max-width:40em'>"
        f"<p>{escape(INTRO[approval.kind])}</p><h2>{escape(approval.subject)}</h2><table>{rows}</table>{step}"
        f"<p>{buttons}</p>"
        "<p style='color:#555'>Each link opens a confirmation page; nothing is decided until you confirm there.</p>"
        "</body></html>"
    )
    text = "\n".join(
        [
            INTRO[approval.kind],
            approval.subject,
            *(f"{line.label}: {line.value}" + (f" <{line.href}>" if line.href else "") for line in approval.summary),
            *([earlier] if earlier else []),
            "",
            *(f"{BUTTONS[decision][0]}: {link}" for decision, link in links.items()),
        ]
    )
    return Email(to=(approver,), subject=f"{SUBJECT_PREFIX[approval.kind]}: {approval.subject}", html=html, text=text)
