"""Market development funds end to end over HTTP against the local stack, as people do it: a vendor admin allocates,
a partner requests, approvers decide by the links in their emails (partial amounts, a two-step chain, a rejection
and a revision), the partner uploads proof to S3 and claims, the reviewer returns it once and then pays part of it.
Also tenant isolation, signed proof links, bad input that writes nothing, and idempotent submission."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from infrastructure.local.people import Mail, People, Session
from tests.support.events import EventCapture, validate
from tests.support.mdf import (
    FINANCE,
    MARKETING,
    PDF,
    ask_upload,
    claim_body,
    current_period,
    post_file,
    proof_links,
    request_body,
    upload_proof,
    wait_for_partner,
)
from tests.support.partners import Partner, onboard, vendor_admin

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

ATTENDEES_PDF = PDF.replace(b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 595 842]")  # A4: another real PDF


# ------------------------------------------------------------------ helpers
def usd(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD"}


def field_errors(answer: requests.Response) -> list[str]:
    return [e["field"] for e in answer.json()["errors"]]


def get_request(people: People, session: Session, request_id: str) -> dict[str, Any]:
    answer = people.api("GET", f"/mdf/requests/{request_id}", session=session)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def wait_for_request(
    people: People, session: Session, request_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        request = get_request(people, session, request_id)
        if until(request):
            return request
        if time.monotonic() > deadline:
            raise AssertionError(f"{request_id} is {request['status']}: {request['timeline']}")
        time.sleep(0.1)


def status_is(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda request: request["status"] == status


def funds(people: People, session: Session, query: str = "") -> list[dict[str, Any]]:
    answer = people.api("GET", f"/mdf/funds{query}", session=session)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def fund(people: People, partner: Partner, period: str) -> dict[str, Any]:
    [found] = [f for f in funds(people, partner.session) if f["fund_id"] == f"{period}.USD"]
    return found


def ledger(people: People, session: Session, fund_id: str, query: str = "") -> list[dict[str, Any]]:
    """A fund's entries, oldest first."""
    answer = people.api("GET", f"/mdf/funds/{fund_id}/ledger?limit=50{query}", session=session)
    assert answer.status_code == 200, answer.text
    assert answer.json()["next_cursor"] is None
    return list(reversed(answer.json()["items"]))


def request_ids(people: People, session: Session) -> list[str]:
    answer = people.api("GET", "/mdf/requests?limit=50", session=session)
    assert answer.status_code == 200, answer.text
    return [r["request_id"] for r in answer.json()["items"]]


def allocate(people: People, vendor: Session, partner: Partner, period: str, amount: int) -> dict[str, Any]:
    body = {"partner_id": partner.partner_id, "period_id": period, "amount": usd(amount), "note": "Quarterly MDF"}
    answer = people.api("POST", "/mdf/allocations", session=vendor, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def submit(people: People, partner: Partner, body: dict[str, Any]) -> dict[str, Any]:
    answer = people.api("POST", "/mdf/requests", session=partner.session, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def approval_mail(people: People, approver: str, approval_id: str) -> Mail:
    """The approver's first email for this approval (a reminder follows after 3 s; its links are the same)."""
    [mail] = people.wait_for_mail(people.to(approver, containing=f"/approvals/{approval_id}?"))
    return mail


def decided(page: requests.Response, outcome: str) -> bool:
    return page.status_code == 200 and f"data-outcome='{outcome}'" in page.text


def approved_request(people: People, partner: Partner, period: str, amount: int) -> dict[str, Any]:
    """A request channel marketing approved in full by its link (the confirmation form as prefilled)."""
    request_id = submit(people, partner, request_body(period, amount))["request_id"]
    mail = approval_mail(people, MARKETING, f"mdf-{request_id}-1-marketing")
    assert decided(people.decide(people.links(mail)["approve"]), "approved")
    return wait_for_request(people, partner.session, request_id, status_is("approved"))


def partner_mail(people: People, partner: Partner, subject: str, containing: str = "") -> Mail:
    [mail] = people.wait_for_mail(people.to(partner.email, subject=subject, containing=containing))
    return mail


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def vendor(people: People) -> Session:
    return vendor_admin(people, name="MDF Admin")


@pytest.fixture(scope="module")
def period(people: People, vendor: Session) -> str:
    return current_period(people, vendor)


@pytest.fixture(scope="module")
def partners(people: People, vendor: Session, events: EventCapture) -> tuple[Partner, Partner]:
    """Two partners onboarded side by side through the real flow, once MDF knows them."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        alpha, beta = pool.map(lambda company: onboard(people, company=company), ["Alpha Marketing", "Beta Events"])
    for partner in (alpha, beta):
        wait_for_partner(people, vendor, partner.partner_id)
    return alpha, beta


@pytest.fixture(scope="module")
def alpha(partners: tuple[Partner, Partner]) -> Partner:
    return partners[0]


@pytest.fixture(scope="module")
def beta(partners: tuple[Partner, Partner]) -> Partner:
    return partners[1]


@pytest.fixture(scope="module")
def funded(people: People, vendor: Session, period: str, alpha: Partner) -> dict[str, Any]:
    """Alpha's allocation of 10,000.00 USD, as the vendor admin got it back."""
    return allocate(people, vendor, alpha, period, 1_000_000)


@pytest.fixture(scope="module")
def approved(people: People, period: str, alpha: Partner, funded: dict[str, Any]) -> dict[str, Any]:
    """Alpha asks for 4,000.00; channel marketing grants 3,000.00 by its email link, promptly (links lapse in 10 s)."""
    body = request_body(period, 400_000, activity_type="event", title=f"Partner summit booth {uuid.uuid4().hex[:6]}")
    receipt = submit(people, alpha, body)
    request_id = receipt["request_id"]
    mail = approval_mail(people, MARKETING, f"mdf-{request_id}-1-marketing")
    links = people.links(mail)
    form = people.http.get(links["approve"], timeout=30)  # what the approver sees first; a GET never decides
    page = people.decide(links["approve"], amount="3000.00")
    request = wait_for_request(people, alpha.session, request_id, status_is("approved"))
    return {"body": body, "receipt": receipt, "mail": mail, "links": links, "form": form, "page": page, "now": request}


# ------------------------------------------------------------------ the story
def test_vendor_allocation_shows_in_the_partners_balance_and_ledger(
    people: People, events: EventCapture, vendor: Session, period: str, alpha: Partner, funded: dict[str, Any]
) -> None:
    fund_id = f"{period}.USD"
    answer, entry = funded["fund"], funded["entry"]
    assert answer["fund_id"] == fund_id and answer["period_id"] == period and answer["status"] == "open"
    assert answer["available"] == answer["allocated"] == usd(1_000_000)
    assert answer["reserved"] == answer["paid"] == answer["expired"] == answer["accrued"] == usd(0)
    assert answer["entries"] == 1
    assert entry["seq"] == 1 and entry["kind"] == "allocated" and entry["amount"] == usd(1_000_000)
    assert entry["actor"] == vendor.email and entry["note"] == "Quarterly MDF"
    assert entry["reference"]["type"] == "allocation"
    assert entry["balance"] == {"available": usd(1_000_000), "reserved": usd(0), "paid": usd(0)}

    # the partner sees the balance and the entry that explains it
    assert funds(people, alpha.session) == [answer]
    assert ledger(people, alpha.session, fund_id) == [entry]
    # and so does the vendor admin, naming the partner
    assert funds(people, vendor, f"?partner_id={alpha.partner_id}") == [answer]

    allocated = events.wait_for("MdfFundsAllocated", partner_id=alpha.partner_id)
    validate(allocated)
    assert allocated["source"] == "prm.mdf"
    detail = allocated["detail"]
    assert detail["fund_id"] == fund_id and detail["amount"] == usd(1_000_000)
    assert detail["allocation_id"] == entry["reference"]["id"] and detail["allocated_by"] == vendor.email
    assert detail["balance"] == entry["balance"]


def test_marketing_grants_part_of_a_request_by_email_and_it_is_reserved(
    people: People, events: EventCapture, period: str, alpha: Partner, approved: dict[str, Any]
) -> None:
    receipt, body = approved["receipt"], approved["body"]
    request_id, title = receipt["request_id"], body["title"]
    assert request_id.startswith("mdfreq_") and "partner_id" not in receipt
    assert receipt["status"] == "submitted" and receipt["round"] == 1 and receipt["fund_id"] == f"{period}.USD"
    assert receipt["requested"] == usd(400_000) and receipt["granted"] is None and receipt["claim"] is None

    submitted = events.wait_for("MdfRequestSubmitted", request_id=request_id)
    validate(submitted)
    assert submitted["detail"]["partner_id"] == alpha.partner_id and submitted["detail"]["round"] == 1
    assert submitted["detail"]["requested"] == usd(400_000) and submitted["detail"]["submitted_by"] == alpha.email

    # the approver's email: what is asked, from whom, against which balance, and one link per decision
    mail = approved["mail"]
    assert mail["subject"] == f"Approval needed: MDF request: {title} (4,000.00 USD)"
    for shown in ("Alpha Marketing", alpha.partner_id, alpha.email, "4,000.00 USD", "10,000.00 USD", "Round</th><td>1"):
        assert shown in mail["body"], shown
    assert set(approved["links"]) == {"approve", "reject"}
    # the confirmation page offers the full amount, to be lowered
    form = approved["form"]
    assert form.status_code == 200 and "value='4000.00'" in form.text and "at most 4,000.00 USD" in form.text
    assert decided(approved["page"], "approved") and "3,000.00 USD" in approved["page"].text

    request = approved["now"]
    assert request["granted"] == usd(300_000) and request["requested"] == usd(400_000)
    assert [(a["step"], a["decision"], a["by"], a["amount"]) for a in request["approvals"]] == [
        ("Channel marketing", "approved", MARKETING, usd(300_000))
    ]
    assert [t["status"] for t in request["timeline"]] == ["submitted", "under_review", "approved"]
    assert "Granted 3,000.00 USD of 4,000.00 USD asked" in request["timeline"][-1]["note"]
    assert request["next_step"] == "Run the activity, then file a claim with proof"
    assert request["claim_due_at"] and request["next_step_due"] == request["claim_due_at"]

    now = fund(people, alpha, period)
    assert (now["available"], now["reserved"], now["paid"]) == (usd(700_000), usd(300_000), usd(0))
    assert [e["kind"] for e in ledger(people, alpha.session, now["fund_id"])] == ["allocated", "reserved"]

    event = events.wait_for("MdfRequestApproved", request_id=request_id)
    validate(event)
    detail = event["detail"]
    assert detail["granted"] == usd(300_000) and detail["approved_by"] == [MARKETING]
    assert detail["balance"] == {"available": usd(700_000), "reserved": usd(300_000), "paid": usd(0)}
    assert detail["claim_due_at"] == request["claim_due_at"]
    told = partner_mail(people, alpha, f"MDF request approved: {title}")
    assert "3,000.00 USD" in told["body"] and "4,000.00 USD" in told["body"]


def test_claim_with_proof_is_returned_once_then_paid_in_part(
    people: People, events: EventCapture, period: str, alpha: Partner, vendor: Session, approved: dict[str, Any]
) -> None:
    request_id, title = approved["receipt"]["request_id"], approved["body"]["title"]

    # proof goes straight to S3 by presigned POST, as the portal's browser code does it
    answer = ask_upload(people, alpha.session, request_id, PDF, name="summit-invoice.pdf")
    assert answer.status_code == 201, answer.text
    grant = answer.json()
    assert set(grant) == {"file_id", "upload", "expires_in", "max_bytes"} and grant["expires_in"] == 600
    fields = grant["upload"]["fields"]
    assert fields["Content-Type"] == "application/pdf"
    assert fields["key"].startswith(f"proofs/{alpha.partner_id}/{request_id}/{grant['file_id']}/")
    stored = post_file(grant["upload"], PDF, "summit-invoice.pdf", "application/pdf")
    assert stored.status_code in (200, 201, 204), stored.text
    invoice = grant["file_id"]

    answer = people.api(
        "POST", f"/mdf/requests/{request_id}/claim", session=alpha.session, json=claim_body([invoice], 250_000)
    )
    assert answer.status_code == 201, answer.text
    claimed = answer.json()
    assert claimed["status"] == "claimed" and claimed["claim_status"] == "submitted"
    claim = claimed["claim"]
    assert claim["status"] == "submitted" and claim["round"] == 1 and claim["amount_spent"] == usd(250_000)
    assert claim["proof_files"] == [
        {
            "file_id": invoice,
            "file_name": "summit-invoice.pdf",
            "content_type": "application/pdf",
            "size_bytes": len(PDF),
        }
    ]
    event = events.wait_for("MdfClaimSubmitted", request_id=request_id, round=1)
    validate(event)
    assert event["detail"]["amount_spent"] == usd(250_000) and event["detail"]["proof_files"] == 1

    # the reviewer's email: three decisions and a signed link to each proof file
    review = approval_mail(people, MARKETING, f"mdf-claim-{request_id}-1-0")
    assert review["subject"] == f"Approval needed: MDF claim: {title} (2,500.00 USD)"
    assert "3,000.00 USD" in review["body"] and "claim round 1" in review["body"]
    links = people.links(review)
    assert set(links) == {"approve", "reject", "return"}
    [proof] = proof_links(review)
    assert urlparse(proof).path.endswith(f"/mdf/proofs/{request_id}/{invoice}")
    redirect = people.http.get(proof, allow_redirects=False, timeout=30)
    assert redirect.status_code == 302 and redirect.headers["Cache-Control"] == "no-store"
    download = requests.get(redirect.headers["Location"], timeout=30)
    assert download.status_code == 200 and download.content == PDF
    assert 'filename="summit-invoice.pdf"' in download.headers["Content-Disposition"]
    # the partner (and a vendor admin) download it through the API
    for who in (alpha.session, vendor):
        answer = people.api("GET", f"/mdf/requests/{request_id}/claim/files/{invoice}", session=who)
        assert answer.status_code == 200, answer.text
        assert answer.json()["file_name"] == "summit-invoice.pdf" and answer.json()["expires_in"] == 300
        assert requests.get(answer.json()["url"], timeout=30).content == PDF

    # returned for more proof: a reason is required
    assert people.decide(links["return"]).status_code == 400
    reason = "Please add the attendee list."
    assert decided(people.decide(links["return"], reason=reason), "returned")
    returned = wait_for_request(people, alpha.session, request_id, lambda r: r["claim_status"] == "returned")
    assert returned["status"] == "claimed" and returned["claim"]["reason"] == reason
    assert returned["claim"]["decided_by"] == MARKETING
    assert returned["next_step"] == "Add the requested proof and resubmit the claim"
    event = events.wait_for("MdfClaimReturned", request_id=request_id)
    validate(event)
    assert event["detail"]["reason"] == reason and event["detail"]["round"] == 1
    partner_mail(people, alpha, f"More proof needed: {title}", containing=reason)
    untouched = fund(people, alpha, period)
    assert (untouched["available"], untouched["reserved"]) == (usd(700_000), usd(300_000))

    # more proof, and the claim again: round 2 keeps the invoice and adds the attendee list
    attendees = upload_proof(people, alpha.session, request_id, ATTENDEES_PDF, name="attendees.pdf")
    body = claim_body([invoice, attendees], 250_000, notes="Attendee list added.")
    answer = people.api("POST", f"/mdf/requests/{request_id}/claim", session=alpha.session, json=body)
    assert answer.status_code == 201, answer.text
    claim = answer.json()["claim"]
    assert claim["status"] == "submitted" and claim["round"] == 2
    assert [f["file_id"] for f in claim["proof_files"]] == [invoice, attendees]
    validate(events.wait_for("MdfClaimSubmitted", request_id=request_id, round=2))

    review = approval_mail(people, MARKETING, f"mdf-claim-{request_id}-2-0")
    assert "claim round 2" in review["body"] and len(proof_links(review)) == 2
    page = people.decide(people.links(review)["approve"], amount="2000.00")
    assert decided(page, "approved") and "2,000.00 USD" in page.text

    paid = wait_for_request(people, alpha.session, request_id, status_is("paid"))
    assert paid["claim"]["status"] == "approved" and paid["claim"]["approved_amount"] == usd(200_000)
    assert paid["claim"]["round"] == 2 and paid["claim"]["decided_by"] == MARKETING
    assert paid["next_step"] == "No further action"
    assert [t["status"] for t in paid["timeline"]][-4:] == [
        "claim_submitted",
        "claim_returned",
        "claim_submitted",
        "paid",
    ]
    final = fund(people, alpha, period)
    assert (final["available"], final["reserved"], final["paid"]) == (usd(800_000), usd(0), usd(200_000))
    entries = ledger(people, alpha.session, final["fund_id"])
    assert [(e["kind"], e["amount"]["amount_minor"]) for e in entries] == [
        ("allocated", 1_000_000),
        ("reserved", 300_000),
        ("paid", 200_000),
        ("released", 100_000),
    ]
    assert entries[-1]["balance"] == {"available": usd(800_000), "reserved": usd(0), "paid": usd(200_000)}

    approved_event = events.wait_for("MdfClaimApproved", request_id=request_id)
    validate(approved_event)
    assert approved_event["detail"]["approved_amount"] == usd(200_000)
    assert approved_event["detail"]["amount_spent"] == usd(250_000) and approved_event["detail"]["round"] == 2
    paid_event = events.wait_for("MdfClaimPaid", request_id=request_id)
    validate(paid_event)
    assert paid_event["detail"]["amount"] == usd(200_000) and paid_event["detail"]["released"] == usd(100_000)
    assert paid_event["detail"]["balance"] == entries[-1]["balance"]
    partner_mail(people, alpha, f"MDF claim approved: {title}", containing="2,000.00 USD")


# ------------------------------------------------------------------ approval chain and rejection
def test_above_the_finance_threshold_finance_decides_after_marketing(
    people: People, events: EventCapture, vendor: Session, period: str, beta: Partner
) -> None:
    allocate(people, vendor, beta, period, 1_500_000)
    request_id = submit(people, beta, request_body(period, 1_300_000))["request_id"]
    marketing = approval_mail(people, MARKETING, f"mdf-{request_id}-1-marketing")
    assert decided(people.decide(people.links(marketing)["approve"], amount="12,000.00"), "approved")

    # 12,000.00 is above USD's threshold (10,000.00): finance sees marketing's decision and may grant at most that
    finance = approval_mail(people, FINANCE, f"mdf-{request_id}-1-finance")
    assert f"Channel marketing: approved 12,000.00 USD by {MARKETING}" in finance["body"]
    link = people.links(finance)["approve"]
    too_much = people.decide(link, amount="12000.01")
    assert too_much.status_code == 400 and "at most 12,000.00 USD" in too_much.text
    assert decided(people.decide(link, amount="11000.00"), "approved")

    request = wait_for_request(people, beta.session, request_id, status_is("approved"))
    assert request["granted"] == usd(1_100_000)
    assert [(a["step"], a["decision"], a["by"], a["amount"]) for a in request["approvals"]] == [
        ("Channel marketing", "approved", MARKETING, usd(1_200_000)),
        ("Finance", "approved", FINANCE, usd(1_100_000)),
    ]
    now = fund(people, beta, period)
    assert (now["available"], now["reserved"]) == (usd(400_000), usd(1_100_000))
    event = events.wait_for("MdfRequestApproved", request_id=request_id)
    validate(event)
    assert event["detail"]["approved_by"] == [MARKETING, FINANCE] and event["detail"]["granted"] == usd(1_100_000)


def test_a_rejected_request_reserves_nothing_and_may_be_revised(
    people: People, events: EventCapture, period: str, beta: Partner
) -> None:
    body = request_body(period, 100_000, title=f"Print catalogue {uuid.uuid4().hex[:6]}", activity_type="print")
    request_id = submit(people, beta, body)["request_id"]
    mail = approval_mail(people, MARKETING, f"mdf-{request_id}-1-marketing")
    before = fund(people, beta, period)
    entries = ledger(people, beta.session, before["fund_id"])

    reject = people.links(mail)["reject"]
    assert people.decide(reject).status_code == 400  # a rejection needs a reason
    reason = "The catalogue budget is committed to the summit this quarter."
    assert decided(people.decide(reject, reason=reason), "rejected")
    rejected = wait_for_request(people, beta.session, request_id, status_is("rejected"))
    assert rejected["decision_reason"] == reason and rejected["granted"] is None
    assert [(a["step"], a["decision"], a["reason"]) for a in rejected["approvals"]] == [
        ("Channel marketing", "rejected", reason)
    ]
    assert rejected["next_step"] == "Revise and resubmit if you wish"
    event = events.wait_for("MdfRequestRejected", request_id=request_id)
    validate(event)
    assert event["detail"]["reason"] == reason and event["detail"]["decided_by"] == MARKETING
    partner_mail(people, beta, f"MDF request not approved: {body['title']}", containing=reason)
    assert fund(people, beta, period) == before and ledger(people, beta.session, before["fund_id"]) == entries

    revised_body = body | {"title": body["title"] + " (half print run)", "requested": usd(60_000)}
    answer = people.api("POST", f"/mdf/requests/{request_id}/revision", session=beta.session, json=revised_body)
    assert answer.status_code == 200, answer.text
    revised = answer.json()
    assert revised["request_id"] == request_id and revised["round"] == 2 and revised["status"] == "submitted"
    assert revised["approvals"] == [] and revised["requested"] == usd(60_000)
    validate(events.wait_for("MdfRequestSubmitted", request_id=request_id, round=2))

    mail = approval_mail(people, MARKETING, f"mdf-{request_id}-2-marketing")
    assert "Round</th><td>2" in mail["body"] and "600.00 USD" in mail["body"]
    assert decided(people.decide(people.links(mail)["approve"]), "approved")  # the prefilled full amount
    approved = wait_for_request(people, beta.session, request_id, status_is("approved"))
    assert approved["granted"] == usd(60_000) and approved["round"] == 2
    assert [t["status"] for t in approved["timeline"]] == [
        "submitted",
        "under_review",
        "rejected",
        "submitted",
        "under_review",
        "approved",
    ]
    after = fund(people, beta, period)
    assert after["available"]["amount_minor"] == before["available"]["amount_minor"] - 60_000
    assert after["reserved"]["amount_minor"] == before["reserved"]["amount_minor"] + 60_000


def test_a_returned_claim_resubmitted_as_it_was_is_reviewed_again_and_may_be_rejected(
    people: People, events: EventCapture, period: str, beta: Partner
) -> None:
    """The reviewer asked a question the partner answers without changing the claim: the same body again is a new
    claim round, not a replay of the first answer."""
    before = fund(people, beta, period)
    request = approved_request(people, beta, period, 20_000)
    request_id = request["request_id"]
    body = claim_body([upload_proof(people, beta.session, request_id)], 15_000)
    claims = f"/mdf/requests/{request_id}/claim"
    answer = people.api("POST", claims, session=beta.session, json=body)
    assert answer.status_code == 201 and answer.json()["claim"]["round"] == 1, answer.text
    review = approval_mail(people, MARKETING, f"mdf-claim-{request_id}-1-0")
    reason = "Is the invoice final? If so, submit the claim again as it is."
    assert decided(people.decide(people.links(review)["return"], reason=reason), "returned")
    wait_for_request(people, beta.session, request_id, lambda r: r["claim_status"] == "returned")

    again = people.api("POST", claims, session=beta.session, json=body)
    assert again.status_code == 201, again.text
    assert again.json()["claim"]["round"] == 2 and again.json()["claim"]["status"] == "submitted", again.json()
    validate(events.wait_for("MdfClaimSubmitted", request_id=request_id, round=2))
    review = approval_mail(people, MARKETING, f"mdf-claim-{request_id}-2-0")
    rejection = "The invoice is dated before the activity."
    assert decided(people.decide(people.links(review)["reject"], reason=rejection), "rejected")

    rejected = wait_for_request(people, beta.session, request_id, status_is("claim_rejected"))
    assert rejected["claim"]["status"] == "rejected" and rejected["claim"]["reason"] == rejection
    event = events.wait_for("MdfClaimRejected", request_id=request_id)
    validate(event)
    assert event["detail"]["round"] == 2 and event["detail"]["reason"] == rejection
    partner_mail(people, beta, f"MDF claim rejected: {rejected['title']}", containing=rejection)
    # the whole reservation is released: the fund is as it was before the request
    after = fund(people, beta, period)
    assert (after["available"], after["reserved"], after["paid"]) == (
        before["available"],
        before["reserved"],
        before["paid"],
    )
    kinds = [e["kind"] for e in ledger(people, beta.session, after["fund_id"])]
    assert kinds[-2:] == ["reserved", "released"]


# ------------------------------------------------------------------ security
def test_mdf_routes_need_a_token_roles_and_the_owning_partner(
    people: People, vendor: Session, period: str, alpha: Partner, beta: Partner, approved: dict[str, Any]
) -> None:
    request_id = approved["receipt"]["request_id"]
    request = get_request(people, alpha.session, request_id)
    assert request["claim"], "runs after the claim story"
    file_id = request["claim"]["proof_files"][0]["file_id"]
    fund_id = f"{period}.USD"
    alpha_fund, alpha_entries = fund(people, alpha, period), ledger(people, alpha.session, fund_id)

    for method, path in [
        ("GET", "/mdf/periods"),
        ("POST", "/mdf/periods"),
        ("GET", "/mdf/partners"),
        ("POST", "/mdf/allocations"),
        ("POST", "/mdf/adjustments"),
        ("GET", "/mdf/funds"),
        ("GET", f"/mdf/funds/{fund_id}/ledger"),
        ("POST", "/mdf/requests"),
        ("GET", "/mdf/requests"),
        ("GET", f"/mdf/requests/{request_id}"),
        ("POST", f"/mdf/requests/{request_id}/revision"),
        ("POST", f"/mdf/requests/{request_id}/claim/uploads"),
        ("POST", f"/mdf/requests/{request_id}/claim"),
        ("GET", f"/mdf/requests/{request_id}/claim/files/{file_id}"),
    ]:
        answer = people.api(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized", (method, path, answer.text)

    # partner users neither allocate nor define periods
    allocation = {"partner_id": alpha.partner_id, "period_id": period, "amount": usd(5_000_000), "note": "for me"}
    new_period = {
        "period_id": "MINE-1",
        "name": "Mine",
        "starts_on": "2099-01-01",
        "ends_on": "2099-03-31",
        "claim_window_ends_at": "2099-06-30T23:59:59Z",
    }
    for method, path, body in [
        ("POST", "/mdf/allocations", allocation),
        ("POST", "/mdf/adjustments", allocation | {"note": "Correction in my favour"}),
        ("POST", "/mdf/periods", new_period),
        ("POST", f"/mdf/periods/{period}/accrual", {"accrual_rate_bp": 10_000}),
        ("GET", "/mdf/partners", None),
    ]:
        answer = people.api(method, path, session=alpha.session, json=body)
        assert answer.status_code == 403 and answer.json()["code"] == "forbidden", (path, answer.text)
    assert "MINE-1" not in {p["period_id"] for p in people.api("GET", "/mdf/periods", session=vendor).json()["items"]}

    # another partner: alpha's request, its uploads and its proof files do not exist
    upload = {"file_name": "x.pdf", "content_type": "application/pdf", "size_bytes": 10}
    for method, path, body in [
        ("GET", f"/mdf/requests/{request_id}", None),
        ("POST", f"/mdf/requests/{request_id}/claim/uploads", upload),
        ("POST", f"/mdf/requests/{request_id}/claim", claim_body([file_id], 100)),
        ("POST", f"/mdf/requests/{request_id}/revision", request_body(period, 100)),
        ("GET", f"/mdf/requests/{request_id}/claim/files/{file_id}", None),
    ]:
        answer = people.api(method, path, session=beta.session, json=body)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", (method, path, answer.text)
    assert request_id not in request_ids(people, beta.session)
    # beta sees its own funds and ledger only, even when it names alpha
    for query in ("", f"?partner_id={alpha.partner_id}"):
        [own] = funds(people, beta.session, query)
        assert own["fund_id"] == fund_id and own["allocated"] == usd(1_500_000), own
    references = {
        e["reference"]["id"] for e in ledger(people, beta.session, fund_id, f"&partner_id={alpha.partner_id}")
    }
    assert request_id not in references and not {e["reference"]["id"] for e in alpha_entries} & references
    assert people.api("GET", "/mdf/funds", session=vendor).status_code == 400  # vendor staff name the partner

    # the reviewer's proof link works as signed, and not otherwise
    review = approval_mail(people, MARKETING, f"mdf-claim-{request_id}-2-0")
    link = proof_links(review)[0]
    assert people.http.get(link, allow_redirects=False, timeout=30).status_code == 302
    base, query = link.split("?", 1)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    other_file = request["claim"]["proof_files"][1]["file_id"]
    flipped = params["signature"][:-1] + ("0" if params["signature"][-1] != "0" else "1")
    for tampered in [
        f"{base}?{urlencode(params | {'signature': flipped})}",
        f"{base}?{urlencode(params | {'approver': 'someone@example.org'})}",
        f"{base}?{urlencode(params | {'expires': str(int(params['expires']) + 3600)})}",
        f"{base}?{urlencode(params | {'decision': 'approve'})}",
        f"{base.replace(file_id, other_file)}?{query}",
        base,
    ]:
        answer = people.http.get(tampered, allow_redirects=False, timeout=30)
        assert answer.status_code == 403 and answer.json()["code"] == "forbidden", (tampered, answer.text)
        assert "Location" not in answer.headers

    assert fund(people, alpha, period) == alpha_fund and ledger(people, alpha.session, fund_id) == alpha_entries


def test_bad_input_names_the_field_and_writes_nothing(
    local_stack: Any, people: People, period: str, alpha: Partner
) -> None:
    before_ids, before_fund = request_ids(people, alpha.session), fund(people, alpha, period)
    valid = request_body(period, 10_000)
    over = before_fund["available"]["amount_minor"] + 1
    for body, field in [
        (valid | {"budget_code": "MKT-7"}, "budget_code"),
        (valid | {"requested": usd(over)}, "requested.amount_minor"),
        (valid | {"requested": usd(0)}, "requested"),
        (valid | {"expected_outcome": valid["expected_outcome"] | {"leads": "40"}}, "expected_outcome.leads"),
    ]:
        answer = people.api("POST", "/mdf/requests", session=alpha.session, json=body)
        assert answer.status_code == 400 and answer.json()["code"] == "validation_error", (field, answer.text)
        assert field in field_errors(answer), (field, answer.json())
    assert request_ids(people, alpha.session) == before_ids and fund(people, alpha, period) == before_fund

    request = approved_request(people, alpha, period, 50_000)
    request_id = request["request_id"]
    uploads = f"/mdf/requests/{request_id}/claim/uploads"
    for body, field in [
        ({"file_name": "page.html", "content_type": "text/html", "size_bytes": 100}, "content_type"),
        ({"file_name": "x.pdf", "content_type": "application/pdf", "size_bytes": 21 * 1024 * 1024}, "size_bytes"),
        ({"file_name": "../../etc/x.pdf", "content_type": "application/pdf", "size_bytes": 100}, "file_name"),
        ({"file_name": "x.pdf", "content_type": "application/pdf", "size_bytes": 100, "acl": "public"}, "acl"),
    ]:
        answer = people.api("POST", uploads, session=alpha.session, json=body)
        assert answer.status_code == 400 and field in field_errors(answer), (field, answer.text)

    claims = f"/mdf/requests/{request_id}/claim"
    good = upload_proof(people, alpha.session, request_id)
    fake = b"MZ\x90\x00\x03 this is a Windows executable, not a PDF"
    grant = ask_upload(people, alpha.session, request_id, fake, name="invoice.pdf").json()
    assert post_file(grant["upload"], fake, "invoice.pdf", "application/pdf").ok
    html = b"<html><script>alert(1)</script></html>"
    relabelled = ask_upload(people, alpha.session, request_id, html, name="proof.pdf").json()
    fields = relabelled["upload"]["fields"] | {"Content-Type": "text/html"}  # S3 enforces the policy; moto does not
    assert post_file(relabelled["upload"] | {"fields": fields}, html, "proof.pdf", "text/html").ok
    for body, field, message in [
        (claim_body([], 10_000), "proof_files", "at least one proof file"),
        (claim_body([grant["file_id"]], 10_000), "proof_files.0", "invoice.pdf is not a valid PDF file"),
        (claim_body([good, relabelled["file_id"]], 10_000), "proof_files.1", "was uploaded as text/html"),
        (claim_body(["file_" + "0" * 26], 10_000), "proof_files.0", "upload it first"),
        (claim_body([good], 50_001), "amount_spent.amount_minor", "exceeds the granted 500.00 USD"),
        (claim_body([good], 10_000) | {"paid_to": "IBAN"}, "paid_to", ""),
    ]:
        answer = people.api("POST", claims, session=alpha.session, json=body)
        assert answer.status_code == 400 and field in field_errors(answer), (field, answer.text)
        assert message in str(answer.json()["errors"]), (field, answer.json())
    # a refused file is deleted from the bucket; the request and its fund are as they were
    listed = local_stack.client("s3").list_objects_v2(
        Bucket=local_stack.resource("MdfProofBucket"), Prefix=f"proofs/{alpha.partner_id}/{request_id}/"
    )
    keys = {o["Key"] for o in listed.get("Contents", [])}
    assert grant["upload"]["fields"]["key"] not in keys and relabelled["upload"]["fields"]["key"] not in keys
    assert len(keys) == 1  # the good one, still unclaimed
    assert get_request(people, alpha.session, request_id) == request
    assert fund(people, alpha, period)["reserved"]["amount_minor"] == before_fund["reserved"]["amount_minor"] + 50_000


def test_submitting_twice_with_one_idempotency_key_makes_one_request(
    people: People, events: EventCapture, period: str, alpha: Partner
) -> None:
    body, key = request_body(period, 5_000), str(uuid.uuid4())
    before = request_ids(people, alpha.session)
    first = people.api("POST", "/mdf/requests", session=alpha.session, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = people.api("POST", "/mdf/requests", session=alpha.session, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json() == first.json()
    other = body | {"title": "Another webinar"}
    reused = people.api("POST", "/mdf/requests", session=alpha.session, json=other, headers={"Idempotency-Key": key})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"

    request_id = first.json()["request_id"]
    assert request_ids(people, alpha.session) == [request_id, *before]
    events.wait_for("MdfRequestSubmitted", request_id=request_id)
    time.sleep(0.5)  # a second submission would have been published by now
    submitted = [e for e in events.poll() if e["detail-type"] == "MdfRequestSubmitted"]
    assert [e["detail"]["request_id"] for e in submitted].count(request_id) == 1
    assert "Another webinar" not in {e["detail"]["title"] for e in submitted}
