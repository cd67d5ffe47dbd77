"""The email an approver receives: the request's summary and two signed links (approve, reject)."""

from __future__ import annotations

from html import escape

from approvals.models import Approval
from shared.links import LinkClaim, link_query
from shared.mail import Email

INTRO = {
    "request": "Your decision is needed.",
    "reminder": "Reminder: this is still waiting for your decision.",
    "escalation": "Escalated: nobody has decided this yet, so it now comes to you as well.",
}
SUBJECT_PREFIX = {"request": "Approval needed", "reminder": "Reminder", "escalation": "Escalated"}


def approval_links(approval: Approval, approver: str, *, key: bytes, base_url: str, expires: int) -> dict[str, str]:
    base = f"{base_url.rstrip('/')}/approvals/{approval.approval_id}"
    return {
        decision: f"{base}?{link_query(key, LinkClaim(approval.approval_id, decision, approver, expires))}"
        for decision in ("approve", "reject")
    }


def approval_email(approval: Approval, approver: str, links: dict[str, str]) -> Email:
    rows = "".join(
        f"<tr><th style='text-align:left;padding:2px 12px 2px 0'>{escape(line.label)}</th><td>{escape(line.value)}</td></tr>"
        for line in approval.summary
    )
    button = "display:inline-block;padding:8px 16px;margin-right:8px;border-radius:4px;color:#fff;text-decoration:none"
    html = (
        "<!doctype html><html><body style='font-family:sans-serif;max-width:40em'>"
        f"<p>{escape(INTRO[approval.kind])}</p><h2>{escape(approval.subject)}</h2><table>{rows}</table>"
        f"<p><a data-decision='approve' style='{button};background:#1a7f37' href='{escape(links['approve'])}'>Approve…</a>"
        f"<a data-decision='reject' style='{button};background:#b42318' href='{escape(links['reject'])}'>Reject…</a></p>"
        "<p style='color:#555'>Each link opens a confirmation page; nothing is decided until you confirm there.</p>"
        "</body></html>"
    )
    text = "\n".join(
        [
            INTRO[approval.kind],
            approval.subject,
            *(f"{line.label}: {line.value}" for line in approval.summary),
            "",
            f"Approve: {links['approve']}",
            f"Reject: {links['reject']}",
        ]
    )
    return Email(to=(approver,), subject=f"{SUBJECT_PREFIX[approval.kind]}: {approval.subject}", html=html, text=text)
