"""HTML pages behind approval links: a confirmation form, and the outcome. Everything user-supplied is escaped."""

from __future__ import annotations

from html import escape

from approvals import domain
from approvals.models import Approval, SummaryLine
from shared.money import format_amount, major_units
from shared.text import for_display

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em;color:#1f2328}"
    "th{text-align:left;padding:4px 16px 4px 0;vertical-align:top}table{margin:1em 0}"
    "button{padding:.6em 1.4em;border:0;border-radius:4px;color:#fff;font-size:1em;cursor:pointer}"
    ".approve{background:#1a7f37}.reject{background:#b42318}.return{background:#9a6700}.error{color:#b42318}"
    "textarea{width:100%;min-height:6em}.muted{color:#57606a}td{overflow-wrap:anywhere}"
)
VERBS = {"approve": "Approve", "reject": "Reject", "return": "Return"}
REASON_LABELS = {
    "reject": "Reason for rejection",
    "return": "What more information is needed",
}


def _page(title: str, content: str) -> str:
    # Escaping stops markup; for_display also drops direction controls and other invisible controls a workflow's
    # text may carry (stored before input refused them, or from a third party), so nothing shown can be reordered.
    return for_display(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width,initial-scale=1'><title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )


def line_value(line: SummaryLine) -> str:
    """A summary value as HTML: a link when the workflow gave one (already limited to http/https)."""
    if line.href:
        return f"<a href='{escape(line.href)}' rel='noopener noreferrer'>{escape(line.value)}</a>"
    return escape(line.value)


def _summary(approval: Approval) -> str:
    rows = "".join(f"<tr><th>{escape(s.label)}</th><td>{line_value(s)}</td></tr>" for s in approval.summary)
    earlier = domain.earlier_text(approval)
    step = f"<p id='earlier'>{escape(earlier)}</p>" if earlier else ""
    return f"<h1>{escape(approval.subject)}</h1><table>{rows}</table>{step}"


def _amount_field(approval: Approval, typed: str | None) -> str:
    spec = approval.amount
    if spec is None:
        return ""
    value = major_units(spec.max_minor, spec.currency) if typed is None else typed
    return (
        f"<p><label for='amount'><strong>{escape(spec.label)}</strong> "
        f"(at most {escape(format_amount(spec.max_minor, spec.currency))})</label><br>"
        f"<input id='amount' name='amount' type='text' inputmode='decimal' required maxlength='32' "
        f"value='{escape(value)}'></p>"
    )


def confirmation(
    approval: Approval,
    *,
    decision: str,
    approver: str,
    expires: str,
    signature: str,
    error: str = "",
    amount: str | None = None,
) -> str:
    """The form behind a link; `amount` is what the approver typed when the page is shown again with an error."""
    verb = VERBS[decision]
    if decision in REASON_LABELS:
        reason_field = (
            f"<p><label for='reason'><strong>{REASON_LABELS[decision]}</strong> (the applicant will see it)</label>"
            "<br><textarea id='reason' name='reason' required maxlength='2000'></textarea></p>"
        )
    else:
        reason_field = (
            "<p><label for='reason'>Note (optional)</label><br><textarea id='reason' name='reason' maxlength='2000'>"
            "</textarea></p>"
        )
    amount_field = _amount_field(approval, amount) if decision == "approve" else ""
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
        f"<form method='post' action='{escape(approval.approval_id)}'>{hidden}{amount_field}{reason_field}{problem}"
        f"<button type='submit' class='{decision}' id='confirm'>Confirm: {verb.lower()}</button></form>"
    )
    intro = f"<p class='muted'>This link was sent to {escape(approver)}. Nothing is decided until you confirm.</p>"
    return _page(f"{verb}: {approval.subject}", _summary(approval) + intro + form)


def outcome(approval: Approval) -> str:
    verb = domain.outcome(approval) or "decided"
    granted = ""
    if approval.amount is not None and approval.amount_minor is not None:
        granted = " " + format_amount(approval.amount_minor, approval.amount.currency)
    reason = f"<p>Reason: {escape(approval.reason)}</p>" if approval.reason else ""
    return _page(
        "Decision recorded",
        _summary(approval)
        + f"<p id='outcome' data-outcome='{verb}'><strong>Thank you: {verb}{escape(granted)}.</strong> "
        f"The workflow continues.</p>{reason}",
    )


def refusal(title: str, message: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p id='refusal'>{escape(message)}</p>")
