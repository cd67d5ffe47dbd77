"""MDF handlers against moto: periods, allocations, requests, claims with proof files, payment, accrual, expiry."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from shared.errors import Conflict, NotYetDue
from tests.integration.conftest import Stack
from tests.support.factories import bus_envelope, partner_onboarded
from tests.support.lambda_events import LambdaContext, claims_for, stream_event

VENDOR = claims_for(sub="vendor-1", email="mdf-admin@example.com", partner_id=None, groups=["vendor-admin"])
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def mdf(stack: Stack) -> Any:
    return stack.load_context("Mdf", "mdf")


def flush(stack: Stack, mdf: Any, *, until: Any = None, timeout: float = 20) -> None:
    """Deliver outbox events, the bus and both queues to the consumer until `until()` holds (or nothing moves)."""
    _, consumers, outbox = mdf
    queues = {"MdfEventsQueue": consumers.handler, "MdfWorkflowQueue": consumers.handler}
    stack.flush("MdfTable", outbox, queues, until=until, timeout=timeout)


def call(
    stack: Stack, mdf: Any, method: str, path: str, params: dict[str, str] | None = None, **kw: Any
) -> tuple[int, Any]:
    status, body, _ = stack.call(mdf[0].app, method, path, params, **kw)
    return status, body


def partner(stack: Stack, mdf: Any) -> dict[str, str]:
    envelope = partner_onboarded()
    boto3.client("sqs").send_message(QueueUrl=stack.ref("MdfEventsQueue"), MessageBody=json.dumps(envelope))
    flush(stack, mdf)
    detail = envelope["detail"]
    claims = claims_for(
        sub=f"sub-{detail['partner_id']}",
        email=f"marketing@{detail['domain']}",
        partner_id=detail["partner_id"],
        groups=["partner-admin"],
    )
    if stack.accept_projected_agreement("MdfTable", "MdfEventsQueue", claims):
        flush(stack, mdf)
    return claims


@pytest.fixture(scope="module")
def current(stack: Stack, mdf: Any) -> str:
    """The programme period running today (periods never overlap, so the tests share it; each has its own partner)."""
    return period(stack, mdf)


def period(
    stack: Stack, mdf: Any, *, window: timedelta = timedelta(days=90), starts: int = -5, ends: int = 30, **changes: Any
) -> str:
    today = date.today()
    period_id = f"T{uuid.uuid4().hex[:8].upper()}"
    body = {
        "period_id": period_id,
        "name": f"Test period {period_id}",
        "starts_on": (today + timedelta(days=starts)).isoformat(),
        "ends_on": (today + timedelta(days=ends)).isoformat(),
        "claim_window_ends_at": (datetime.now(UTC) + window).isoformat(),
    } | changes
    status, answer = call(stack, mdf, "POST", "/mdf/periods", body=body, claims=VENDOR)
    assert status == 201, answer
    return period_id


def allocate(stack: Stack, mdf: Any, who: dict[str, str], period_id: str, amount: int, currency: str = "USD") -> Any:
    body = {
        "partner_id": who["custom:partner_id"],
        "period_id": period_id,
        "amount": {"amount_minor": amount, "currency": currency},
        "note": f"Q allocation {uuid.uuid4().hex[:6]}",
    }
    status, answer = call(stack, mdf, "POST", "/mdf/allocations", body=body, claims=VENDOR)
    assert status == 201, answer
    return answer


def request_body(period_id: str, amount: int, **changes: Any) -> dict[str, Any]:
    today = date.today().isoformat()
    return {
        "period_id": period_id,
        "activity_type": "webinar",
        "title": f"Zero-trust webinar {uuid.uuid4().hex[:6]}",
        "description": "A webinar for 200 IT leaders with a live demo.",
        "starts_on": today,
        "ends_on": today,
        "requested": {"amount_minor": amount, "currency": "USD"},
        "expected_outcome": {"leads": 40, "pipeline_value": {"amount_minor": 50_000_000, "currency": "USD"}},
    } | changes


def submit(stack: Stack, mdf: Any, who: dict[str, str], period_id: str, amount: int) -> str:
    status, answer = call(stack, mdf, "POST", "/mdf/requests", body=request_body(period_id, amount), claims=who)
    assert status == 201, answer
    return str(answer["request_id"])


def request(stack: Stack, mdf: Any, who: dict[str, str], request_id: str) -> Any:
    status, answer = call(stack, mdf, "GET", "/mdf/requests/{request_id}", {"request_id": request_id}, claims=who)
    assert status == 200, answer
    return answer


def fund(stack: Stack, mdf: Any, who: dict[str, str], period_id: str) -> Any:
    status, answer = call(stack, mdf, "GET", "/mdf/funds", claims=who)
    assert status == 200, answer
    return next(f for f in answer["items"] if f["period_id"] == period_id)


def outcome(
    decision: str, amount: int | None = None, by: str = "channel-marketing@example.com", reason: str | None = None
) -> dict[str, Any]:
    return {
        "decision": decision,
        "decided_by": by,
        "reason": reason,
        "decided_at": "2026-11-26T12:00:00Z",
        "amount_minor": amount,
    }


def send_workflow(stack: Stack, message: dict[str, Any]) -> None:
    """What a state machine sends once an approver decided."""
    boto3.client("sqs").send_message(QueueUrl=stack.ref("MdfWorkflowQueue"), MessageBody=json.dumps(message))


def approve_request(stack: Stack, mdf: Any, request_id: str, amount: int | None = None, finance: Any = None) -> None:
    send_workflow(
        stack,
        {
            "message_type": "MdfRequestDecision",
            "request_id": request_id,
            "round": 1,
            "marketing": outcome("approved", amount),
            "finance": finance,
        },
    )


def approved_request(stack: Stack, mdf: Any, who: dict[str, str], period_id: str, *, funds: int, asked: int) -> str:
    """Funds allocated, a request for `asked` submitted and approved in full by channel marketing."""
    allocate(stack, mdf, who, period_id, funds)
    request_id = submit(stack, mdf, who, period_id, asked)
    flush(stack, mdf)
    approve_request(stack, mdf, request_id)
    flush(stack, mdf, until=lambda: request(stack, mdf, who, request_id)["status"] == "approved")
    return request_id


def upload(
    stack: Stack,
    mdf: Any,
    who: dict[str, str],
    request_id: str,
    content: bytes,
    *,
    name: str = "invoice.pdf",
    content_type: str = "application/pdf",
    stored_type: str | None = None,
) -> str:
    """Ask for a presigned POST, then put the bytes where it points (moto does not run POST policies in-process)."""
    status, answer = call(
        stack,
        mdf,
        "POST",
        "/mdf/requests/{request_id}/claim/uploads",
        {"request_id": request_id},
        body={"file_name": name, "content_type": content_type, "size_bytes": len(content)},
        claims=who,
    )
    assert status == 201, answer
    fields = answer["upload"]["fields"]
    assert fields["Content-Type"] == content_type and fields["key"].startswith(f"proofs/{who['custom:partner_id']}/")
    boto3.client("s3").put_object(
        Bucket=stack.ref("MdfProofBucket"), Key=fields["key"], Body=content, ContentType=stored_type or content_type
    )
    return str(answer["file_id"])


def claim_body(files: list[str], amount: int) -> dict[str, Any]:
    return {
        "amount_spent": {"amount_minor": amount, "currency": "USD"},
        "proof_files": files,
        "results": {"leads": 52, "attendees": 180, "invoice_number": "INV-2026-0042"},
        "notes": "Recording attached.",
    }


def entries(stack: Stack, mdf: Any, who: dict[str, str], period_id: str) -> list[dict[str, Any]]:
    status, answer = call(
        stack,
        mdf,
        "GET",
        "/mdf/funds/{fund_id}/ledger",
        {"fund_id": f"{period_id}.USD"},
        claims=who,
        query={"limit": "50"},
    )
    assert status == 200, answer
    return list(answer["items"])


def minor(money: dict[str, Any]) -> int:
    return int(money["amount_minor"])


# ------------------------------------------------------------------ tests
def test_vendor_admins_define_periods_and_allocate_and_bad_input_changes_nothing(
    stack: Stack, mdf: Any, current: str
) -> None:
    me = partner(stack, mdf)
    period_id = current
    body = {
        "partner_id": me["custom:partner_id"],
        "period_id": period_id,
        "amount": {"amount_minor": 1, "currency": "USD"},
    }
    assert call(stack, mdf, "POST", "/mdf/allocations", body=body, claims=me)[0] == 403
    assert call(stack, mdf, "POST", "/mdf/periods", body={"period_id": "X1"}, claims=me)[0] in (400, 403)
    before = len(stack.items("MdfTable"))
    for bad, field in [
        (body | {"amount": {"amount_minor": 0, "currency": "USD"}}, "amount"),
        (body | {"amount": {"amount_minor": 10.5, "currency": "USD"}}, "amount.amount_minor"),
        (body | {"partner_id": "prt_nobody"}, "partner_id"),
        (body | {"period_id": "NOPE-1"}, "period_id"),
        (body | {"extra": 1}, "extra"),
    ]:
        status, error = call(stack, mdf, "POST", "/mdf/allocations", body=bad, claims=VENDOR)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (field, error)
    assert len(stack.items("MdfTable")) == before
    status, error = call(
        stack,
        mdf,
        "POST",
        "/mdf/periods",
        body={
            "period_id": period_id,
            "name": "again",
            "starts_on": "2027-01-01",
            "ends_on": "2027-03-31",
            "claim_window_ends_at": "2027-06-30T23:59:59Z",
        },
        claims=VENDOR,
    )
    assert status == 409 and error["errors"][0]["field"] == "period_id"
    status, error = call(
        stack,
        mdf,
        "POST",
        "/mdf/periods",
        body={
            "period_id": "BAD-DATES",
            "name": "x",
            "starts_on": "2027-03-01",
            "ends_on": "2027-01-31",
            "claim_window_ends_at": "2027-01-01T00:00:00Z",
        },
        claims=VENDOR,
    )
    assert status == 400 and {"ends_on", "claim_window_ends_at"} <= {e["field"] for e in error["errors"]}

    allocated = allocate(stack, mdf, me, period_id, 1_000_000)
    assert allocated["entry"]["kind"] == "allocated" and minor(allocated["fund"]["available"]) == 1_000_000
    allocate(stack, mdf, me, period_id, 250_050)
    balance = fund(stack, mdf, me, period_id)
    assert minor(balance["available"]) == 1_250_050 and minor(balance["allocated"]) == 1_250_050
    assert balance["entries"] == 2 and balance["fund_id"] == f"{period_id}.USD"
    ledger = entries(stack, mdf, me, period_id)
    assert [e["seq"] for e in ledger] == [2, 1]
    assert minor(ledger[0]["balance"]["available"]) == 1_250_050
    # vendor admins read any partner's funds by naming it; partners only ever see their own
    status, listing = call(
        stack, mdf, "GET", "/mdf/funds", claims=VENDOR, query={"partner_id": me["custom:partner_id"]}
    )
    assert status == 200 and [f["fund_id"] for f in listing["items"]] == [f"{period_id}.USD"]
    assert call(stack, mdf, "GET", "/mdf/funds", claims=VENDOR)[0] == 400
    status, partners = call(stack, mdf, "GET", "/mdf/partners", claims=VENDOR)
    assert status == 200 and me["custom:partner_id"] in [p["partner_id"] for p in partners["items"]]
    assert call(stack, mdf, "GET", "/mdf/partners", claims=me)[0] == 403


def test_request_partial_approval_claim_with_proof_and_payment(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)
    period_id = current
    allocate(stack, mdf, me, period_id, 1_000_000)
    # more than available is refused, naming the field
    status, error = call(stack, mdf, "POST", "/mdf/requests", body=request_body(period_id, 1_000_001), claims=me)
    assert status == 400 and error["errors"][0]["field"] == "requested.amount_minor"
    # a currency without a fund says so and names the partner's currencies (not "exceeds ... (0.00 EUR)")
    eur = request_body(period_id, 100) | {"requested": {"amount_minor": 100, "currency": "EUR"}}
    status, error = call(stack, mdf, "POST", "/mdf/requests", body=eur, claims=me)
    assert status == 400 and error["errors"] == [
        {
            "field": "requested.currency",
            "message": f"you have no fund in EUR for {period_id}; your open funds for this period are in USD",
        }
    ]
    request_id = submit(stack, mdf, me, period_id, 400_000)
    flush(stack, mdf, until=lambda: request(stack, mdf, me, request_id)["status"] == "under_review")
    assert request(stack, mdf, me, request_id)["next_step_due"]
    approve_request(stack, mdf, request_id, 300_000)  # partial: granted less than asked
    flush(stack, mdf, until=lambda: request(stack, mdf, me, request_id)["status"] == "approved")
    detail = request(stack, mdf, me, request_id)
    assert minor(detail["granted"]) == 300_000 and detail["claim_due_at"]
    assert detail["approvals"][0]["amount"] == {"amount_minor": 300_000, "currency": "USD"}
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["available"]), minor(balance["reserved"])) == (700_000, 300_000)

    file_id = upload(stack, mdf, me, request_id, PDF)
    status, claimed = call(
        stack,
        mdf,
        "POST",
        "/mdf/requests/{request_id}/claim",
        {"request_id": request_id},
        body=claim_body([file_id], 250_000),
        claims=me,
    )
    assert status == 201, claimed
    assert claimed["status"] == "claimed" and claimed["claim"]["status"] == "submitted"
    assert "key" not in claimed["claim"]["proof_files"][0]
    flush(stack, mdf)
    send_workflow(
        stack,
        {
            "message_type": "MdfClaimDecision",
            "request_id": request_id,
            "round": 1,
            "review": outcome("approved", 200_000),
        },
    )
    flush(stack, mdf, until=lambda: request(stack, mdf, me, request_id)["status"] == "paid")
    paid = request(stack, mdf, me, request_id)
    assert minor(paid["claim"]["approved_amount"]) == 200_000
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["available"]), minor(balance["reserved"]), minor(balance["paid"])) == (800_000, 0, 200_000)
    kinds = [(e["kind"], minor(e["amount"])) for e in reversed(entries(stack, mdf, me, period_id))]
    assert kinds == [("allocated", 1_000_000), ("reserved", 300_000), ("paid", 200_000), ("released", 100_000)]
    # a redelivered decision changes nothing
    send_workflow(
        stack,
        {
            "message_type": "MdfClaimDecision",
            "request_id": request_id,
            "round": 1,
            "review": outcome("approved", 200_000),
        },
    )
    flush(stack, mdf)
    assert fund(stack, mdf, me, period_id)["entries"] == 4
    mail = [m for m in stack.sent_mail() if me["email"] in m.destinations["ToAddresses"]]
    assert any("approved" in m.subject.lower() and "claim" in m.subject.lower() for m in mail)
    # the owner gets a short-lived download link for the proof
    status, link = call(
        stack,
        mdf,
        "GET",
        "/mdf/requests/{request_id}/claim/files/{file_id}",
        {"request_id": request_id, "file_id": file_id},
        claims=me,
    )
    assert status == 200 and link["expires_in"] == 300 and "X-Amz-Signature" in link["url"]


def test_two_step_chain_finance_grants_less_and_rejection_reserves_nothing(
    stack: Stack, mdf: Any, current: str
) -> None:
    me = partner(stack, mdf)
    period_id = current
    allocate(stack, mdf, me, period_id, 5_000_000)
    big, rejected = submit(stack, mdf, me, period_id, 2_000_000), submit(stack, mdf, me, period_id, 100_000)
    flush(stack, mdf)
    approve_request(
        stack, mdf, big, 1_800_000, finance=outcome("approved", 1_500_000, by="mdf-finance@example.com", reason="Cap")
    )
    send_workflow(
        stack,
        {
            "message_type": "MdfRequestDecision",
            "request_id": rejected,
            "round": 1,
            "marketing": outcome("rejected", None, reason="Not aligned with the campaign calendar."),
            "finance": None,
        },
    )
    flush(stack, mdf, until=lambda: request(stack, mdf, me, rejected)["status"] == "rejected")
    flush(stack, mdf, until=lambda: request(stack, mdf, me, big)["status"] == "approved")
    assert minor(request(stack, mdf, me, big)["granted"]) == 1_500_000
    assert [a["step"] for a in request(stack, mdf, me, big)["approvals"]] == ["Channel marketing", "Finance"]
    assert minor(fund(stack, mdf, me, period_id)["reserved"]) == 1_500_000
    refused = request(stack, mdf, me, rejected)
    assert refused["decision_reason"] == "Not aligned with the campaign calendar."
    # a rejected request is revised and resubmitted: round 2
    status, revised = call(
        stack,
        mdf,
        "POST",
        "/mdf/requests/{request_id}/revision",
        {"request_id": rejected},
        body=request_body(period_id, 90_000),
        claims=me,
    )
    assert status == 200 and revised["status"] == "submitted" and revised["round"] == 2
    status, error = call(
        stack,
        mdf,
        "POST",
        "/mdf/requests/{request_id}/revision",
        {"request_id": big},
        body=request_body(period_id, 1),
        claims=me,
    )
    assert status == 409 and error["code"] == "invalid_state"


def test_bad_uploads_are_refused_and_leave_no_claim(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)
    period_id = current
    request_id = approved_request(stack, mdf, me, period_id, funds=100_000, asked=100_000)
    path = {"request_id": request_id}
    for body, field in [
        ({"file_name": "run.exe", "content_type": "application/x-msdownload", "size_bytes": 10}, "content_type"),
        ({"file_name": "big.pdf", "content_type": "application/pdf", "size_bytes": 20 * 1024 * 1024 + 1}, "size_bytes"),
        ({"file_name": "../../etc/passwd", "content_type": "text/csv", "size_bytes": 10}, "file_name"),
        ({"file_name": "x.pdf", "content_type": "application/pdf", "size_bytes": 0}, "size_bytes"),
    ]:
        status, error = call(stack, mdf, "POST", "/mdf/requests/{request_id}/claim/uploads", path, body=body, claims=me)
        assert status == 400 and error["errors"][0]["field"] == field, (field, error)
    not_a_pdf = upload(stack, mdf, me, request_id, b"MZ\x90\x00 this is an executable")
    wrong_type = upload(stack, mdf, me, request_id, PDF, stored_type="text/html")
    never_uploaded = "file_" + "0" * 26
    for files, field in [
        ([], "proof_files"),
        ([not_a_pdf], "proof_files.0"),
        ([wrong_type], "proof_files.0"),
        ([never_uploaded], "proof_files.0"),
    ]:
        status, error = call(
            stack, mdf, "POST", "/mdf/requests/{request_id}/claim", path, body=claim_body(files, 1000), claims=me
        )
        assert status == 400 and error["errors"][0]["field"] == field, (files, error)
    detail = request(stack, mdf, me, request_id)
    assert detail["status"] == "approved" and detail["claim"] is None
    # the refused files are gone from the bucket
    keys = [
        o["Key"]
        for o in boto3.client("s3")
        .list_objects_v2(Bucket=stack.ref("MdfProofBucket"), Prefix=f"proofs/{me['custom:partner_id']}/{request_id}/")
        .get("Contents", [])
    ]
    assert not any(not_a_pdf in k or wrong_type in k for k in keys)
    good = upload(stack, mdf, me, request_id, PDF)
    status, error = call(
        stack, mdf, "POST", "/mdf/requests/{request_id}/claim", path, body=claim_body([good], 100_001), claims=me
    )
    assert status == 400 and error["errors"][0]["field"] == "amount_spent.amount_minor"


def test_tenant_isolation_on_every_mdf_route_and_proof_link(stack: Stack, mdf: Any, current: str) -> None:
    owner, other = partner(stack, mdf), partner(stack, mdf)
    period_id = current
    request_id = approved_request(stack, mdf, owner, period_id, funds=100_000, asked=50_000)
    file_id = upload(stack, mdf, owner, request_id, PDF)
    assert (
        call(
            stack,
            mdf,
            "POST",
            "/mdf/requests/{request_id}/claim",
            {"request_id": request_id},
            body=claim_body([file_id], 40_000),
            claims=owner,
        )[0]
        == 201
    )
    path = {"request_id": request_id}
    file_path = path | {"file_id": file_id}
    assert call(stack, mdf, "GET", "/mdf/requests/{request_id}", path, claims=other)[0] == 404
    assert (
        call(stack, mdf, "GET", "/mdf/requests/{request_id}/claim/files/{file_id}", file_path, claims=other)[0] == 404
    )
    assert (
        call(
            stack,
            mdf,
            "POST",
            "/mdf/requests/{request_id}/claim/uploads",
            path,
            body={"file_name": "a.pdf", "content_type": "application/pdf", "size_bytes": 9},
            claims=other,
        )[0]
        == 404
    )
    assert (
        call(stack, mdf, "POST", "/mdf/requests/{request_id}/claim", path, body=claim_body([file_id], 1), claims=other)[
            0
        ]
        == 404
    )
    assert (
        call(
            stack,
            mdf,
            "POST",
            "/mdf/requests/{request_id}/revision",
            path,
            body=request_body(period_id, 1),
            claims=other,
        )[0]
        == 404
    )
    status, listing = call(stack, mdf, "GET", "/mdf/requests", claims=other)
    assert status == 200 and listing["items"] == []
    # vendor admins list a partner's requests by naming it (and must name one)
    status, listing = call(
        stack, mdf, "GET", "/mdf/requests", claims=VENDOR, query={"partner_id": owner["custom:partner_id"]}
    )
    assert status == 200 and [r["request_id"] for r in listing["items"]] == [request_id]
    assert call(stack, mdf, "GET", "/mdf/requests", claims=VENDOR)[0] == 400
    # a partner naming another partner still reads only its own funds
    status, funds = call(
        stack, mdf, "GET", "/mdf/funds", claims=other, query={"partner_id": owner["custom:partner_id"]}
    )
    assert status == 200 and funds["items"] == []
    assert (
        call(stack, mdf, "GET", "/mdf/funds/{fund_id}/ledger", {"fund_id": f"{period_id}.USD"}, claims=other)[0] == 404
    )
    # vendor admins may open the proof; a reviewer link works only with a valid signature
    assert (
        call(stack, mdf, "GET", "/mdf/requests/{request_id}/claim/files/{file_id}", file_path, claims=VENDOR)[0] == 200
    )
    assert (
        call(
            stack,
            mdf,
            "GET",
            "/mdf/proofs/{request_id}/{file_id}",
            file_path,
            query={
                "decision": "download",
                "approver": "x@example.com",
                "expires": str(int(time.time()) + 60),
                "signature": "0" * 64,
            },
        )[0]
        == 403
    )


def test_concurrent_approvals_never_over_reserve(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)
    period_id = current
    allocate(stack, mdf, me, period_id, 1_000_000)
    request_ids = [submit(stack, mdf, me, period_id, 200_000) for _ in range(12)]  # each fits alone; 5 fit together
    # Not flushed before deciding: the test stack's approvals expire after about 6 s (2 s timeouts), so on a loaded
    # machine a flush here delivered some requests' expiry before their decision (the race under test never ran).
    consumers = mdf[1]
    results: list[str] = []
    errors: list[BaseException] = []

    def decide(request_id: str) -> None:
        message = {
            "message_type": "MdfRequestDecision",
            "request_id": request_id,
            "round": 1,
            "marketing": outcome("approved"),
            "finance": None,
        }
        for _ in range(5):  # a consumer that keeps losing the race fails the message; the queue delivers it again
            try:
                results.append(consumers.handle_message(message))
                return
            except Conflict:
                continue
            except BaseException as error:
                errors.append(error)
                return
        errors.append(AssertionError(f"{request_id} kept losing the race"))

    threads = [threading.Thread(target=decide, args=(r,)) for r in request_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # A write that landed but was reported as failed (a timeout, or moto under load) is retried and then answered
    # "stale decision": the outcome of each message may say so, the stored state below may not differ.
    assert len(results) == 12 and set(results) <= {"approved", "insufficient_funds", "stale decision"}, results
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["available"]), minor(balance["reserved"])) == (0, 1_000_000)
    ledger = entries(stack, mdf, me, period_id)
    assert sorted(e["kind"] for e in ledger) == ["allocated"] + ["reserved"] * 5
    assert [e["seq"] for e in ledger] == list(range(6, 0, -1))
    statuses = [request(stack, mdf, me, r)["status"] for r in request_ids]
    assert statuses.count("approved") == 5 and statuses.count("rejected") == 7


def test_won_deals_accrue_once(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)
    period_id = current
    status, changed = call(
        stack,
        mdf,
        "POST",
        "/mdf/periods/{period_id}/accrual",
        {"period_id": period_id},
        body={"accrual_rate_bp": 250},
        claims=VENDOR,
    )
    assert status == 200 and changed["accrual_rate_bp"] == 250
    detail = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": "2026-11-26T12:00:00.000Z",
        "version": "1",
        "partner_id": me["custom:partner_id"],
        "deal_id": f"deal_{uuid.uuid4().hex[:8]}",
        "amount": {"amount_minor": 999_999, "currency": "USD"},
        "close_date": date.today().isoformat(),
    }
    sqs = boto3.client("sqs")
    won = bus_envelope("prm.deals", "DealWon", detail)
    for envelope in (won, won, bus_envelope("prm.deals", "DealWon", detail | {"event_id": f"evt_{uuid.uuid4().hex}"})):
        sqs.send_message(QueueUrl=stack.ref("MdfEventsQueue"), MessageBody=json.dumps(envelope))
    flush(stack, mdf)
    balance = fund(stack, mdf, me, period_id)
    assert minor(balance["accrued"]) == 24_999 and minor(balance["available"]) == 24_999  # floor(999_999 * 2.5%)
    assert [e["kind"] for e in entries(stack, mdf, me, period_id)] == ["accrued"]


def test_reversed_wins_take_their_accrual_back_in_either_order(stack: Stack, mdf: Any, current: str) -> None:
    """After its win, twice; before its win; and a corrected win accrues the new amount."""
    me = partner(stack, mdf)
    period_id = current
    status, _ = call(
        stack,
        mdf,
        "POST",
        "/mdf/periods/{period_id}/accrual",
        {"period_id": period_id},
        body={"accrual_rate_bp": 250},
        claims=VENDOR,
    )
    assert status == 200
    sqs = boto3.client("sqs")

    def deliver(detail_type: str, deal_id: str, revision: int, amount: int, *times: int) -> None:
        detail: dict[str, Any] = {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "occurred_at": "2026-11-26T12:00:00.000Z",
            "version": "1",
            "partner_id": me["custom:partner_id"],
            "deal_id": deal_id,
            "win_revision": revision,
        }
        if detail_type == "DealWon":
            detail |= {"amount": {"amount_minor": amount, "currency": "USD"}, "close_date": date.today().isoformat()}
        else:
            detail |= {
                "reason": "Wrong amount",
                "reversed_by": "admin@vendor.example",
                "previous_amount": {"amount_minor": amount, "currency": "USD"},
            }
        envelope = bus_envelope("prm.deals", detail_type, detail)
        for _ in range(times[0] if times else 1):
            sqs.send_message(QueueUrl=stack.ref("MdfEventsQueue"), MessageBody=json.dumps(envelope))
        flush(stack, mdf)

    after, before = f"deal_{uuid.uuid4().hex[:8]}", f"deal_{uuid.uuid4().hex[:8]}"
    deliver("DealWon", after, 1, 1_000_000)
    deliver("DealWinReversed", after, 1, 1_000_000, 2)  # redelivered: taken back once
    deliver("DealWinReversed", before, 1, 2_000_000)  # its win is late
    deliver("DealWon", before, 1, 2_000_000)
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["accrued"]), minor(balance["accrual_reversed"]), minor(balance["available"])) == (
        25_000,
        25_000,
        0,
    )
    assert minor(balance["clawback_outstanding"]) == 0
    deliver("DealWon", after, 2, 800_000, 2)  # the corrected win, redelivered
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["accrued"]), minor(balance["available"])) == (45_000, 20_000)
    ledger = entries(stack, mdf, me, period_id)
    assert [(e["kind"], minor(e["amount"])) for e in ledger] == [
        ("accrued", 20_000),
        ("accrual_reversed", 25_000),
        ("accrued", 25_000),
    ]
    assert "Wrong amount" in ledger[1]["note"] and "clawback" not in ledger[1]


def test_unused_funds_expire_after_a_warning_and_late_releases_expire_too(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)
    period_id = period(stack, mdf, window=timedelta(seconds=8), starts=-60, ends=-6)  # ended; claims close soon
    allocate(stack, mdf, me, period_id, 70_000)
    flush(stack, mdf, until=lambda: fund(stack, mdf, me, period_id)["status"] == "closed", timeout=30)
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["available"]), minor(balance["expired"])) == (0, 70_000)
    warnings = [
        m
        for m in stack.sent_mail()
        if "expiring" in m.subject.lower()
        and any(me["custom:partner_id"].replace("_", "-") in a for a in m.destinations["ToAddresses"])
    ]
    assert warnings, "the partner was warned before the funds expired"
    # a closed fund takes no more money
    body = {
        "partner_id": me["custom:partner_id"],
        "period_id": period_id,
        "amount": {"amount_minor": 1, "currency": "USD"},
    }
    status, error = call(stack, mdf, "POST", "/mdf/allocations", body=body, claims=VENDOR)
    assert status == 409 and error["code"] == "fund_closed"


def test_claim_deadline_releases_the_reservation(
    stack: Stack, mdf: Any, current: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = partner(stack, mdf)
    period_id = current
    request_id = approved_request(stack, mdf, me, period_id, funds=100_000, asked=60_000)
    due = request(stack, mdf, me, request_id)["claim_due_at"]
    consumers = mdf[1]
    # as the timer sends it (seconds, Z); a timer for a due date that has moved since is stale and changes nothing
    message = {"message_type": "MdfClaimDeadline", "request_id": request_id, "claim_due_at": due[:19] + "Z"}
    stale = message | {"claim_due_at": "2020-01-01T00:00:00Z"}
    with pytest.raises(NotYetDue):
        consumers.handle_message(message)  # early timers are retried, never acted on
    later = datetime.fromisoformat(due.replace("Z", "+00:00")) + timedelta(seconds=1)
    monkeypatch.setattr(consumers.service().claims, "clock", lambda: later)
    assert consumers.handle_message(stale).startswith("stale timer")
    assert consumers.handle_message(message) == "lapsed"
    assert consumers.handle_message(message) == "nothing due"
    monkeypatch.undo()
    assert request(stack, mdf, me, request_id)["status"] == "lapsed"
    balance = fund(stack, mdf, me, period_id)
    assert (minor(balance["available"]), minor(balance["reserved"])) == (100_000, 0)


def test_creating_posts_are_idempotent(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)
    period_id = current
    allocate(stack, mdf, me, period_id, 100_000)
    body = request_body(period_id, 10_000)
    first = call(stack, mdf, "POST", "/mdf/requests", body=body, claims=me)
    again = call(stack, mdf, "POST", "/mdf/requests", body=body, claims=me)
    assert first == again and first[0] == 201
    _status, listing = call(stack, mdf, "GET", "/mdf/requests", claims=me)
    assert [r["request_id"] for r in listing["items"]] == [first[1]["request_id"]]
    headers = {"Idempotency-Key": f"alloc-{uuid.uuid4().hex}"}
    alloc = {
        "partner_id": me["custom:partner_id"],
        "period_id": period_id,
        "amount": {"amount_minor": 5, "currency": "USD"},
    }
    assert call(stack, mdf, "POST", "/mdf/allocations", body=alloc, claims=VENDOR, headers=headers) == call(
        stack, mdf, "POST", "/mdf/allocations", body=alloc, claims=VENDOR, headers=headers
    )
    assert minor(fund(stack, mdf, me, period_id)["allocated"]) == 100_005


def test_vendor_adjustments_credit_and_debit_but_never_below_zero(stack: Stack, mdf: Any, current: str) -> None:
    me = partner(stack, mdf)

    def adjust(
        amount: int, note: str | None = "Correction of a duplicate invoice", who: Any = VENDOR
    ) -> tuple[int, Any]:
        body: dict[str, Any] = {
            "partner_id": me["custom:partner_id"],
            "period_id": current,
            "amount": {"amount_minor": amount, "currency": "USD"},
        }
        if note is not None:
            body["note"] = note
        return call(stack, mdf, "POST", "/mdf/adjustments", body=body, claims=who)

    assert adjust(5_000, who=me)[0] == 403
    status, credited = adjust(5_000)
    assert status == 201 and credited["entry"]["kind"] == "adjusted" and minor(credited["fund"]["available"]) == 5_000
    status, debited = adjust(-2_000, note="Overpaid last quarter")
    assert (
        status == 201 and minor(debited["entry"]["amount"]) == -2_000 and minor(debited["fund"]["available"]) == 3_000
    )
    for amount, note, field in [
        (-3_001, "Too much", "amount.amount_minor"),
        (0, "Zero", "amount.amount_minor"),
        (1, None, "note"),
    ]:
        status, error = adjust(amount, note)
        assert status == 400 and error["errors"][0]["field"] == field, (amount, error)
    balance = fund(stack, mdf, me, current)
    assert (minor(balance["available"]), minor(balance["adjusted"]), balance["entries"]) == (3_000, 3_000, 2)


def test_periods_added_at_once_never_overlap(stack: Stack, mdf: Any) -> None:
    def body(number: int) -> dict[str, Any]:
        return {
            "period_id": f"FY31-RACE{number}",
            "name": f"Race {number}",
            "starts_on": f"2031-01-{number + 1:02d}",
            "ends_on": "2031-03-31",
            "claim_window_ends_at": "2031-06-30T23:59:59Z",
        }

    statuses: list[int] = []

    def create(number: int) -> None:
        statuses.append(call(stack, mdf, "POST", "/mdf/periods", body=body(number), claims=VENDOR)[0])

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    _, periods = call(stack, mdf, "GET", "/mdf/periods", claims=VENDOR)
    assert len([p for p in periods["items"] if p["period_id"].startswith("FY31-RACE")]) == 1


def test_a_closed_fund_cannot_be_reopened_by_a_writer_that_read_it_open(stack: Stack, mdf: Any) -> None:
    from mdf.domain import ledger
    from mdf.ports import StaleWrite
    from mdf.repository import MdfRepository

    me = partner(stack, mdf)
    period_id = period(stack, mdf, window=timedelta(seconds=2), starts=-90, ends=-61)
    allocate(stack, mdf, me, period_id, 1_000)
    debit = {"partner_id": me["custom:partner_id"], "period_id": period_id, "note": "Moved to another fund"}
    debit["amount"] = {"amount_minor": -1_000, "currency": "USD"}
    assert call(stack, mdf, "POST", "/mdf/adjustments", body=debit, claims=VENDOR)[0] == 201  # nothing left to expire
    funds, repository = mdf[1].service().funds, MdfRepository(stack.ref("MdfTable"))
    fund_id = f"{period_id}.USD"
    read_open = repository.fund(me["custom:partner_id"], fund_id)
    time.sleep(2.1)
    assert funds.expire_fund(me["custom:partner_id"], fund_id) == "closed"  # no entry: seq unchanged
    # a change computed from the fund as it was before the close (same seq) must lose, not undo the close
    stale = read_open.model_copy(update={"seq": read_open.seq, "available": 5})
    with pytest.raises(StaleWrite):
        repository.write(fund=stale, fund_seq=read_open.seq, fund_status="open")
    closed_fund = repository.fund(me["custom:partner_id"], fund_id)
    assert closed_fund.status == "closed" and closed_fund.available == 0
    assert ledger.expire_fund(closed_fund, now=datetime.now(UTC), new_id=lambda p: p).outcome == "already closed"


def test_replaying_request_events_after_the_dedup_records_expired_mails_and_starts_nothing(
    stack: Stack, mdf: Any, current: str
) -> None:
    """The bus archive can replay events a day later, when the consumers' de-duplication records are gone."""
    _, consumers, outbox = mdf
    me = partner(stack, mdf)
    approved = approved_request(stack, mdf, me, current, funds=1_000_000, asked=200_000)
    rejected = submit(stack, mdf, me, current, 100_000)
    flush(stack, mdf)
    send_workflow(
        stack,
        {
            "message_type": "MdfRequestDecision",
            "request_id": rejected,
            "round": 1,
            "marketing": outcome("rejected", None, reason="Not this quarter."),
            "finance": None,
        },
    )
    flush(stack, mdf, until=lambda: request(stack, mdf, me, rejected)["status"] == "rejected")
    flush(stack, mdf)
    dynamodb = boto3.client("dynamodb")
    table = stack.ref("MdfTable")
    scanned = dynamodb.scan(TableName=table)["Items"]
    published = [
        {"eventID": item["pk"]["S"], "eventName": "INSERT", "dynamodb": {"NewImage": item}}
        for item in scanned
        if item.get("entity", {}).get("S") == "outbox"
        and (approved in item["detail"]["S"] or rejected in item["detail"]["S"])
    ]
    assert {p["dynamodb"]["NewImage"]["detail_type"]["S"] for p in published} >= {
        "MdfRequestSubmitted",
        "MdfRequestApproved",
        "MdfRequestRejected",
    }
    before = [request(stack, mdf, me, r) for r in (approved, rejected)]
    mails = len(stack.sent_mail())
    sfn = boto3.client("stepfunctions")
    machines = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    executions = sum(len(sfn.list_executions(stateMachineArn=m)["executions"]) for m in machines)
    for item in scanned:  # the de-duplication records expired
        if item["pk"]["S"].startswith("idempotency"):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    replayed = outbox.handler(stream_event(published, stack.attr("MdfTable", "StreamArn")), LambdaContext())
    assert replayed["batchItemFailures"] == []
    delivered = 0
    while batch := stack.deliver("MdfEventsQueue", consumers.handler, wait=1)["delivered"]:
        delivered += batch
    assert delivered >= 4
    assert [m.subject for m in stack.sent_mail()[mails:]] == []
    assert [request(stack, mdf, me, r) for r in (approved, rejected)] == before
    assert sum(len(sfn.list_executions(stateMachineArn=m)["executions"]) for m in machines) == executions
