"""HTML pages behind approval links: a confirmation form, and the outcome. Everything user-supplied is escaped."""

from __future__ import annotations

from html import escape

from approvals.models import Approval

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em;color:#1f2328}"
    "th{text-align:left;padding:4px 16px 4px 0;vertical-align:top}table{margin:1em 0}"
    "button{padding:.6em 1.4em;border:0;border-radius:4px;color:#fff;font-size:1em;cursor:pointer}"
    ".approve{background:#1a7f37}.reject{background:#b42318}.error{color:#b42318}"
    "textarea{width:100%;min-height:6em}.muted{color:#57606a}"
)


def _page(title: str, content: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width,initial-scale=1'><title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )


def _summary(approval: Approval) -> str:
    rows = "".join(f"<tr><th>{escape(s.label)}</th><td>{escape(s.value)}</td></tr>" for s in approval.summary)
    return f"<h1>{escape(approval.subject)}</h1><table>{rows}</table>"


def confirmation(
    approval: Approval, *, decision: str, approver: str, expires: str, signature: str, error: str = ""
) -> str:
    verb = "Approve" if decision == "approve" else "Reject"
    reason_field = (
        "<p><label for='reason'><strong>Reason for rejection</strong> (the applicant will see it)</label><br>"
        "<textarea id='reason' name='reason' required maxlength='2000'></textarea></p>"
        if decision == "reject"
        else "<p><label for='reason'>Note (optional)</label><br><textarea id='reason' name='reason' maxlength='2000'>"
        "</textarea></p>"
    )
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{escape(value)}'>"
        for name, value in (
            ("decision", decision),
            ("approver", approver),
            ("expires", expires),
            ("signature", signature),
        )
    )
    problem = f"<p class='error' role='alert'>{escape(error)}</p>" if error else ""
    form = (
        f"<form method='post' action='{escape(approval.approval_id)}'>{hidden}{reason_field}{problem}"
        f"<button type='submit' class='{decision}' id='confirm'>Confirm: {verb.lower()}</button></form>"
    )
    intro = f"<p class='muted'>This link was sent to {escape(approver)}. Nothing is decided until you confirm.</p>"
    return _page(f"{verb}: {approval.subject}", _summary(approval) + intro + form)


def outcome(approval: Approval) -> str:
    verb = "approved" if approval.decision == "approve" else "rejected"
    reason = f"<p>Reason: {escape(approval.reason)}</p>" if approval.reason else ""
    return _page(
        "Decision recorded",
        _summary(approval) + f"<p id='outcome' data-outcome='{verb}'><strong>Thank you: {verb}.</strong> "
        f"The workflow continues.</p>{reason}",
    )


def refusal(title: str, message: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p id='refusal'>{escape(message)}</p>")
