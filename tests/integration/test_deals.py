"""Deal registration handlers against moto, with the real approval and protection state machines."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Stack
from tests.support.factories import deal_body, partner_onboarded, unique_domain
from tests.support.lambda_events import LambdaContext, claims_for, stream_event

VENDOR = claims_for(sub="vendor-1", email="channel@example.com", partner_id=None, groups=["vendor-admin"])


def deals_functions(stack: Stack) -> tuple[Any, Any, Any]:
    """Deals' API, consumer and outbox functions, with the products a registration names."""
    api, consumers, outbox = stack.load_context("Deals", "deals")
    for sku, name in (("NET-FW-100", "Firewall 100"), ("NET-SW-48", "Switch 48")):
        stack.call(api.app, "POST", "/products", body={"sku": sku, "name": name, "family": "Network"}, claims=VENDOR)
    return api, consumers, outbox


@pytest.fixture(scope="module")
def deals(stack: Stack) -> Any:
    return deals_functions(stack)


def executions(stack: Stack, machine: str) -> list[dict[str, Any]]:
    """Every execution of one of the template's state machines (by logical id), newest first."""
    pages = boto3.client("stepfunctions").get_paginator("list_executions").paginate(stateMachineArn=stack.ref(machine))
    return [execution for page in pages for execution in page["executions"]]


def flush(stack: Stack, deals: Any, *, until: Any = None, timeout: float = 20) -> None:
    """Deliver outbox events, the bus and both queues to the consumer until `until()` holds (or nothing moves)."""
    _, consumers, outbox = deals
    queues = {"DealsEventsQueue": consumers.handler, "DealsWorkflowQueue": consumers.handler}
    stack.flush("DealsTable", outbox, queues, until=until, timeout=timeout)


def partner(stack: Stack, deals: Any, *, country: str = "GB") -> dict[str, str]:
    """A partner that deals knows from a PartnerOnboarded event (as the bus delivers it)."""
    envelope = partner_onboarded(country=country)
    partner_id = envelope["detail"]["partner_id"]
    host = envelope["detail"]["domain"]
    boto3.client("sqs").send_message(QueueUrl=stack.ref("DealsEventsQueue"), MessageBody=json.dumps(envelope))
    flush(stack, deals)
    claims = claims_for(
        sub=f"sub-{partner_id}", email=f"seller@{host}", partner_id=partner_id, groups=["partner-admin"]
    )
    if stack.accept_projected_agreement("DealsTable", "DealsEventsQueue", claims):
        flush(stack, deals)
    return claims


def register(stack: Stack, deals: Any, claims: dict[str, str], body: dict[str, Any], **kwargs: Any) -> tuple[int, Any]:
    status, answer, _ = stack.call(deals[0].app, "POST", "/deals", body=body, claims=claims, **kwargs)
    return status, answer


def get(stack: Stack, deals: Any, claims: dict[str, str], deal_id: str) -> tuple[int, Any]:
    status, answer, _ = stack.call(deals[0].app, "GET", "/deals/{deal_id}", {"deal_id": deal_id}, claims=claims)
    return status, answer


def status_of(stack: Stack, deals: Any, claims: dict[str, str], deal_id: str) -> str:
    return str(get(stack, deals, claims, deal_id)[1]["status"])


def decide(
    stack: Stack, deal_id: str, decision: str, *, purpose: str = "registration", reason: str | None = None
) -> None:
    """What the deal approval state machine sends once a channel manager decided."""
    boto3.client("sqs").send_message(
        QueueUrl=stack.ref("DealsWorkflowQueue"),
        MessageBody=json.dumps(
            {
                "message_type": "DealDecision",
                "deal_id": deal_id,
                "purpose": purpose,
                "decision": decision,
                "decided_by": "emea-channel@example.com",
                "reason": reason,
                "decided_at": "2026-11-26T12:00:00Z",
            }
        ),
    )


def test_only_known_active_partners_register_and_bad_input_names_the_field(stack: Stack, deals: Any) -> None:
    stranger = claims_for(sub="s", email="s@x.com", partner_id="prt_unknown", groups=["partner-admin"])
    # Past the agreement gate, whichever test published an agreement first.
    if stack.accept_projected_agreement("DealsTable", "DealsEventsQueue", stranger):
        flush(stack, deals)
    status, error = register(stack, deals, stranger, deal_body())
    assert status == 403 and error["code"] == "partner_inactive"
    me = partner(stack, deals)
    before = len(stack.items("DealsTable"))
    for body, field in [
        (deal_body(products=["NOPE-1"]), "products.0"),
        (deal_body(expected_close_date="2020-01-01"), "expected_close_date"),
        (deal_body(products=[]), "products"),
        (deal_body(estimated_value={"amount_minor": 1.5, "currency": "USD"}), "estimated_value.amount_minor"),
        (deal_body(partner_id="prt_other"), "partner_id"),
        (deal_body(description="x" * 2001), "description"),
        (deal_body(company="Inc."), "prospect.company_name"),
    ]:
        status, error = register(stack, deals, me, body)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (field, error)
    assert len(stack.items("DealsTable")) == before


def test_receipt_auto_approval_protection_and_precheck(
    stack: Stack,
    deals: Any,
) -> None:
    me, other = partner(stack, deals), partner(stack, deals)
    domain = unique_domain("initech", "co.uk")
    status, receipt = register(stack, deals, me, deal_body(domain, company="Initech, Inc."))
    assert status == 201, receipt
    assert receipt["status"] == "submitted" and receipt["prospect_key"] == {"domain": domain, "company": "initech"}
    flush(stack, deals, until=lambda: status_of(stack, deals, me, receipt["deal_id"]) == "approved")
    _, deal = get(stack, deals, me, receipt["deal_id"])
    assert deal["protection_ends_at"] and [t["status"] for t in deal["timeline"]] == ["submitted", "approved"]
    assert "automatically" in deal["timeline"][1]["note"]
    # approved by the Express workflow; no Standard (human approval) execution was started for it
    name = f"deal-{receipt['deal_id']}-registration-0"
    assert [e["status"] for e in executions(stack, "DealAutoApprovalStateMachine") if e["name"] == name] == [
        "SUCCEEDED"
    ]
    assert not [e for e in executions(stack, "DealApprovalStateMachine") if receipt["deal_id"] in e["name"]]
    # the pre-check tells another partner only that it is protected, and until when
    status, check, _ = stack.call(
        deals[0].app, "GET", "/deals/prospect-check", claims=other, query={"domain": f"https://sales.{domain}/x"}
    )
    assert status == 200 and check == {"status": "protected", "protected_until": deal["protection_ends_at"]}
    status, check, _ = stack.call(
        deals[0].app, "GET", "/deals/prospect-check", claims=other, query={"company_name": "INITECH LLC"}
    )
    assert check["status"] == "protected"
    status, check, _ = stack.call(
        deals[0].app, "GET", "/deals/prospect-check", claims=other, query={"domain": unique_domain()}
    )
    assert check == {"status": "available"}
    assert stack.call(deals[0].app, "GET", "/deals/prospect-check", claims=other, query={})[0] == 400
    # the same partner cannot register the same prospect twice
    status, error = register(stack, deals, me, deal_body(domain, company="Something Else"))
    assert (
        status == 409
        and error["code"] == "duplicate_registration"
        and error["errors"][0]["field"] == "prospect.website"
    )


def test_automatic_approval_is_an_express_workflow_that_logs_its_failures(stack: Stack) -> None:
    """Provisioned from the template like the others: EXPRESS, traced, and (keeping no history) logging errors."""
    sfn = boto3.client("stepfunctions")
    auto = sfn.describe_state_machine(stateMachineArn=stack.ref("DealAutoApprovalStateMachine"))
    assert auto["type"] == "EXPRESS" and auto["tracingConfiguration"] == {"enabled": True}
    logging = auto["loggingConfiguration"]
    assert logging["level"] == "ERROR" and logging["includeExecutionData"] is False
    assert [d["cloudWatchLogsLogGroup"]["logGroupArn"] for d in logging["destinations"]] == [
        stack.template.get_att("DealAutoApprovalLogGroup", "Arn")  # not emulated: a recognisable placeholder
    ]
    human = sfn.describe_state_machine(stateMachineArn=stack.ref("DealApprovalStateMachine"))
    definition = json.loads(human["definition"])
    assert human["type"] == "STANDARD" and definition["StartAt"] == "RequestApproval"  # people only
    assert '"automatic": true' not in json.dumps(definition)


def test_conflicts_go_to_review_and_first_approved_wins(stack: Stack, deals: Any) -> None:
    first, second = partner(stack, deals), partner(stack, deals)
    domain = unique_domain("umbrella")
    _, a = register(stack, deals, first, deal_body(domain, company="Umbrella Corp", amount=90_000_000))
    _, b = register(stack, deals, second, deal_body(unique_domain("umb"), company="Umbrella Corporation"))
    flush(stack, deals, until=lambda: status_of(stack, deals, second, b["deal_id"]) == "under_review")
    assert status_of(stack, deals, first, a["deal_id"]) == "under_review"  # above the automatic limit
    wanted = f"deal-{b['deal_id']}-registration-0"
    request_b: dict[str, Any] = {}
    deadline = time.monotonic() + 15
    while not request_b and time.monotonic() < deadline:  # the state machine sends it on its own thread
        for message in stack.receive("ApprovalRequestsQueue", max_messages=10):
            body = json.loads(message["Body"])
            if body.get("approval_id") == wanted:
                request_b = body
            boto3.client("sqs").change_message_visibility(  # leave the queue as we found it for other tests
                QueueUrl=stack.ref("ApprovalRequestsQueue"), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        time.sleep(0.1)
    # the channel manager sees the conflicting registration side by side with the evidence
    evidence = [line["value"] for line in request_b["summary"] if line["label"].startswith("Conflict")]
    assert "Umbrella Corp" in evidence[0] and "900,000.00 USD" in evidence[0] and "matched on company" in evidence[0]
    decide(stack, b["deal_id"], "approved")
    decide(stack, a["deal_id"], "approved")
    flush(stack, deals, until=lambda: status_of(stack, deals, first, a["deal_id"]) in ("approved", "rejected"))
    statuses = {status_of(stack, deals, second, b["deal_id"]), status_of(stack, deals, first, a["deal_id"])}
    assert statuses == {"approved", "rejected"}
    loser = a if status_of(stack, deals, first, a["deal_id"]) == "rejected" else b
    owner = first if loser is a else second
    _, deal = get(stack, deals, owner, loser["deal_id"])
    assert "approved first" in deal["decision_reason"] and deal["timeline"][-1]["status"] == "rejected"


def test_tenant_isolation_listing_and_cursor(stack: Stack, deals: Any) -> None:
    me, other = partner(stack, deals), partner(stack, deals)
    ids = [register(stack, deals, me, deal_body())[1]["deal_id"] for _ in range(3)]
    assert get(stack, deals, other, ids[0])[0] == 404
    for path, body in (
        ("/deals/{deal_id}/stage", {"stage": "proposal"}),
        ("/deals/{deal_id}/lost", {"reason": "x"}),
        ("/deals/{deal_id}/won", {"amount": {"amount_minor": 1, "currency": "USD"}, "close_date": "2026-01-01"}),
        ("/deals/{deal_id}/extension", {"justification": "Need more time please"}),
    ):
        assert stack.call(deals[0].app, "POST", path, {"deal_id": ids[0]}, body=body, claims=other)[0] == 404
    status, page, _ = stack.call(deals[0].app, "GET", "/deals", claims=me, query={"limit": "2"})
    assert status == 200 and [d["deal_id"] for d in page["items"]] == ids[::-1][:2] and page["next_cursor"]
    status, rest, _ = stack.call(
        deals[0].app, "GET", "/deals", claims=me, query={"limit": "2", "cursor": page["next_cursor"]}
    )
    assert [d["deal_id"] for d in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert stack.call(deals[0].app, "GET", "/deals", claims=other, query={"cursor": page["next_cursor"]})[0] == 400
    assert stack.call(deals[0].app, "GET", "/deals", claims=me, query={"status": "nonsense"})[0] == 400
    assert stack.call(deals[0].app, "GET", "/deals", claims=other)[1]["items"] == []
    status, submitted, _ = stack.call(deals[0].app, "GET", "/deals", claims=me, query={"status": "submitted"})
    assert {d["deal_id"] for d in submitted["items"]} == set(ids)


def test_idempotency_key_replays_the_receipt(stack: Stack, deals: Any) -> None:
    me = partner(stack, deals)
    body, key = deal_body(), {"Idempotency-Key": str(uuid.uuid4())}
    first = register(stack, deals, me, body, headers=key)
    assert register(stack, deals, me, body, headers=key) == first
    assert register(stack, deals, me, deal_body(), headers=key)[0] == 422
    listed = stack.call(deals[0].app, "GET", "/deals", claims=me)[1]["items"]
    assert [d["deal_id"] for d in listed] == [first[1]["deal_id"]]


def approved_deal(stack: Stack, deals: Any, me: dict[str, str]) -> str:
    _, receipt = register(stack, deals, me, deal_body())
    flush(stack, deals, until=lambda: status_of(stack, deals, me, receipt["deal_id"]) == "approved")
    return str(receipt["deal_id"])


def test_stage_won_lost_and_invalid_state(stack: Stack, deals: Any) -> None:
    me = partner(stack, deals)
    won_id, lost_id = approved_deal(stack, deals, me), approved_deal(stack, deals, me)
    app = deals[0].app
    assert (
        stack.call(
            app, "POST", "/deals/{deal_id}/stage", {"deal_id": won_id}, body={"stage": "negotiation"}, claims=me
        )[0]
        == 200
    )
    _, again, _ = stack.call(
        app, "POST", "/deals/{deal_id}/stage", {"deal_id": won_id}, body={"stage": "negotiation"}, claims=me
    )
    assert [t["status"] for t in again["timeline"]].count("stage") == 1  # a repeat changes nothing
    won = {"amount": {"amount_minor": 1_250_000, "currency": "USD"}, "close_date": date.today().isoformat()}
    status, deal, _ = stack.call(app, "POST", "/deals/{deal_id}/won", {"deal_id": won_id}, body=won, claims=me)
    assert status == 200 and deal["status"] == "won" and deal["won"]["amount"]["amount_minor"] == 1_250_000
    status, error, _ = stack.call(
        app, "POST", "/deals/{deal_id}/lost", {"deal_id": won_id}, body={"reason": "x"}, claims=me
    )
    assert status == 409 and error["code"] == "invalid_state"
    status, deal, _ = stack.call(
        app, "POST", "/deals/{deal_id}/lost", {"deal_id": lost_id}, body={"reason": "Budget cut"}, claims=me
    )
    assert status == 200 and deal["status"] == "lost" and deal["lost_reason"] == "Budget cut"
    flush(stack, deals)


def test_extension_is_approved_at_most_twice(stack: Stack, deals: Any) -> None:
    me = partner(stack, deals)
    deal_id = approved_deal(stack, deals, me)
    app = deals[0].app
    ends = get(stack, deals, me, deal_id)[1]["protection_ends_at"]
    for number in (1, 2):
        status, deal, _ = stack.call(
            app,
            "POST",
            "/deals/{deal_id}/extension",
            {"deal_id": deal_id},
            body={"justification": "Customer board meets next month."},
            claims=me,
        )
        assert status == 202 and deal["extension_pending"], deal
        status, error, _ = stack.call(
            app,
            "POST",
            "/deals/{deal_id}/extension",
            {"deal_id": deal_id},
            body={"justification": "Customer board meets next month."},
            claims=me,
        )
        assert status == 409 and error["code"] == "invalid_state"  # one request at a time
        flush(stack, deals)
        decide(stack, deal_id, "approved", purpose="extension")
        flush(stack, deals, until=lambda n=number: get(stack, deals, me, deal_id)[1]["extensions_used"] == n)
    deal = get(stack, deals, me, deal_id)[1]
    assert deal["status"] == "approved" and deal["protection_ends_at"] > ends and not deal["extension_pending"]
    status, error, _ = stack.call(
        app,
        "POST",
        "/deals/{deal_id}/extension",
        {"deal_id": deal_id},
        body={"justification": "A third extension, please."},
        claims=me,
    )
    assert status == 409 and "maximum" in error["message"]


def test_protection_reminds_then_expires_and_frees_the_prospect(stack: Stack, deals: Any) -> None:
    me, other = partner(stack, deals), partner(stack, deals)
    domain = unique_domain("hooli")
    _, receipt = register(stack, deals, me, deal_body(domain, company="Hooli"))
    deal_id = receipt["deal_id"]
    flush(stack, deals, until=lambda: status_of(stack, deals, me, deal_id) == "approved")
    flush(stack, deals, until=lambda: status_of(stack, deals, me, deal_id) == "expired", timeout=30)
    deal = get(stack, deals, me, deal_id)[1]
    assert deal["timeline"][-1]["status"] == "expired"
    reminders = [m for m in stack.sent_mail() if "Protection ends" in m.subject and "Hooli" in m.subject]
    assert len(reminders) >= 1  # 4 s before the end (the 2 s reminder may coincide with the end in a slow run)
    check = stack.call(deals[0].app, "GET", "/deals/prospect-check", claims=other, query={"domain": domain})[1]
    assert check == {"status": "available"}
    assert register(stack, deals, other, deal_body(domain, company="Hooli"))[0] == 201


def test_twenty_partners_race_for_one_prospect_and_exactly_one_is_approved(stack: Stack, deals: Any) -> None:
    partners = [partner(stack, deals) for _ in range(20)]
    service = deals[0].service()
    domain = unique_domain("contested")
    from deals.models import RegisterDealRequest
    from deals.repository import DealsRepository
    from shared.http import principal_from

    class Request:
        def __init__(self, claims: dict[str, str]) -> None:
            self.context = {"authorizer": {"claims": claims}}

    start = threading.Barrier(20)
    registered: list[str] = []
    failures: list[BaseException] = []

    def run(claims: dict[str, str]) -> None:
        try:
            start.wait()
            deal = service.register(
                principal_from(Request(claims)),
                RegisterDealRequest.model_validate(
                    deal_body(domain, company="Contested Ltd", amount=100_000_000)
                ).new_deal(),
            )
            registered.append(deal.deal_id)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in partners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and len(registered) == 20  # every registration is kept; later ones carry conflicts

    # then every one of them is approved at the same moment (as if 20 channel managers clicked at once)
    go = threading.Barrier(20)
    from deals.domain import AutoApprovalLimits, DealTerms
    from deals.models import DealDecision

    # the consumer's service, with a protection long enough to outlast the assertions (the stack's is 12 s)
    none = AutoApprovalLimits(default={}, by_tier={})
    terms = DealTerms(protection=timedelta(days=90), extension=timedelta(days=30), auto_approve_limits=none)
    workflow_side = dataclasses.replace(deals[1].service(), terms=terms)

    def approve(deal_id: str) -> None:
        go.wait()
        workflow_side.apply_decision(
            DealDecision.model_validate(
                {
                    "message_type": "DealDecision",
                    "deal_id": deal_id,
                    "purpose": "registration",
                    "decision": "approved",
                    "decided_by": "emea-channel@example.com",
                    "decided_at": "2026-11-26T12:00:00Z",
                }
            )
        )

    threads = [threading.Thread(target=approve, args=(d,)) for d in registered]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    repository = DealsRepository(stack.ref("DealsTable"))
    statuses = [repository.get(d).status for d in registered]
    assert statuses.count("approved") == 1, statuses
    assert set(statuses) <= {"approved", "rejected"}
    holders = repository.protections(domain, "contested")
    assert {h.deal_id for h in holders if h.protection_ends_at > datetime.now(UTC)} == {
        d for d, s in zip(registered, statuses, strict=True) if s == "approved"
    }


def test_the_channel_manager_of_the_partners_region_reviews(stack: Stack, deals: Any) -> None:
    american = partner(stack, deals, country="US")
    _, receipt = register(stack, deals, american, deal_body(amount=90_000_000))  # prospect in GB, partner in the US
    flush(stack, deals, until=lambda: status_of(stack, deals, american, receipt["deal_id"]) == "under_review")
    timeline = get(stack, deals, american, receipt["deal_id"])[1]["timeline"]
    assert timeline[-1]["note"] == "Sent to amer-channel@example.com for review."


def test_a_registration_nobody_decides_lapses_after_reminder_and_escalation(stack: Stack, deals: Any) -> None:
    me = partner(stack, deals)
    _, receipt = register(stack, deals, me, deal_body(amount=90_000_000))
    deal_id = receipt["deal_id"]
    wanted = f"deal-{deal_id}-registration-0"
    kinds: list[str] = []

    def lapsed() -> bool:
        # Consume what the approvals service would get; earlier tests' reminders are done with, so drop them
        # (making them visible again would keep them ahead of this test's messages in the queue).
        for message in stack.receive("ApprovalRequestsQueue", max_messages=10):
            body = json.loads(message["Body"])
            if body.get("approval_id") == wanted:
                kinds.append(body["kind"])
            boto3.client("sqs").delete_message(
                QueueUrl=stack.ref("ApprovalRequestsQueue"), ReceiptHandle=message["ReceiptHandle"]
            )
        return status_of(stack, deals, me, deal_id) == "rejected"

    flush(stack, deals, until=lapsed, timeout=40)
    assert kinds == ["request", "reminder", "escalation", "close"]
    deal = get(stack, deals, me, deal_id)[1]
    assert "Nobody decided in time" in deal["decision_reason"]


def test_an_extension_can_be_requested_again_after_a_refusal(stack: Stack, deals: Any) -> None:
    me = partner(stack, deals)
    deal_id = approved_deal(stack, deals, me)
    app = deals[0].app
    ask = {"justification": "Customer board meets next month."}
    assert stack.call(app, "POST", "/deals/{deal_id}/extension", {"deal_id": deal_id}, body=ask, claims=me)[0] == 202
    flush(stack, deals)
    decide(stack, deal_id, "rejected", purpose="extension", reason="Not this time.")
    # DealExtensionRefused goes out through the outbox and the bus to deals' consumer, which tells the partner user
    flush(stack, deals, until=lambda: len(refusal_mails(stack, deal_id)) == 1)
    deal = get(stack, deals, me, deal_id)[1]
    assert not deal["extension_pending"] and deal["timeline"][-1]["status"] == "extension_refused"
    [mail] = refusal_mails(stack, deal_id)
    assert mail.destinations["ToAddresses"] == [me["email"]]
    assert "Reason: Not this time." in mail.body and f"Protection still ends {deal['protection_ends_at']}" in mail.body
    assert stack.call(app, "POST", "/deals/{deal_id}/extension", {"deal_id": deal_id}, body=ask, claims=me)[0] == 202
    flush(stack, deals)
    mine = [
        e["name"]
        for e in executions(stack, "DealApprovalStateMachine")
        if deal_id in e["name"] and "extension" in e["name"]
    ]
    assert len(mine) == 2  # each request gets its own review
    lapsed = {"message_type": "DealApprovalExpired", "deal_id": deal_id, "purpose": "extension"}
    boto3.client("sqs").send_message(QueueUrl=stack.ref("DealsWorkflowQueue"), MessageBody=json.dumps(lapsed))
    flush(stack, deals, until=lambda: len(refusal_mails(stack, deal_id)) == 2)  # a lapse takes the same path
    assert "Nobody decided in time" in refusal_mails(stack, deal_id)[-1].body
    flush(stack, deals)
    assert len(refusal_mails(stack, deal_id)) == 2


def refusal_mails(stack: Stack, deal_id: str) -> list[Any]:
    return [
        m for m in stack.sent_mail() if m.subject.startswith("Protection extension not granted") and deal_id in m.body
    ]


def test_an_edited_cursor_is_a_400_not_a_500(stack: Stack, deals: Any) -> None:
    import base64

    me = partner(stack, deals)
    forged = base64.urlsafe_b64encode(json.dumps({"gsi1pk": f"PARTNER#{me['custom:partner_id']}"}).encode()).decode()
    status, error, _ = stack.call(deals[0].app, "GET", "/deals", claims=me, query={"cursor": forged})
    assert status == 400 and error["errors"][0]["field"] == "cursor"


def test_replaying_a_won_deals_events_after_the_dedup_records_expired_changes_and_mails_nothing(
    stack: Stack, deals: Any
) -> None:
    """The archive replayed `DealApproved` of a won deal a day later: it mailed "not approved ... Reason: not given"."""
    api, consumers, outbox = deals
    me = partner(stack, deals)
    deal_id = approved_deal(stack, deals, me)
    flush(stack, deals)
    won = {"amount": {"amount_minor": 900_000, "currency": "USD"}, "close_date": date.today().isoformat()}
    assert stack.call(api.app, "POST", "/deals/{deal_id}/won", {"deal_id": deal_id}, body=won, claims=me)[0] == 200
    flush(stack, deals)
    dynamodb = boto3.client("dynamodb")
    table = stack.ref("DealsTable")
    scanned = dynamodb.scan(TableName=table)["Items"]
    published = [
        {"eventID": item["pk"]["S"], "eventName": "INSERT", "dynamodb": {"NewImage": item}}
        for item in scanned
        if item.get("entity", {}).get("S") == "outbox" and deal_id in item["detail"]["S"]
    ]
    assert {p["dynamodb"]["NewImage"]["detail_type"]["S"] for p in published} >= {
        "DealRegistered",
        "DealApproved",
        "DealWon",
    }
    before = stack.call(api.app, "GET", "/deals/{deal_id}", {"deal_id": deal_id}, claims=me)[1]
    mails = len(stack.sent_mail())
    for item in scanned:  # the de-duplication records expired
        if item["pk"]["S"].startswith("idempotency"):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    replayed = outbox.handler(stream_event(published, stack.attr("DealsTable", "StreamArn")), LambdaContext())
    assert replayed["batchItemFailures"] == []
    delivered = 0
    while batch := stack.deliver("DealsEventsQueue", consumers.handler, wait=1)["delivered"]:
        delivered += batch
    assert delivered >= 2  # DealRegistered and DealApproved came again
    assert [m.subject for m in stack.sent_mail()[mails:]] == []
    after = stack.call(api.app, "GET", "/deals/{deal_id}", {"deal_id": deal_id}, claims=me)[1]
    assert after == before and after["status"] == "won"


def test_a_vendor_reverses_a_win_once_and_the_corrected_win_is_the_next_revision(stack: Stack, deals: Any) -> None:
    """Issue 12: the route, its access, its 409, its replay, and both events in the deal's outbox."""
    app = deals[0].app
    me, other = partner(stack, deals), partner(stack, deals)
    deal_id, not_won = approved_deal(stack, deals, me), approved_deal(stack, deals, me)
    path, ids = "/deals/{deal_id}/won/reversal", {"deal_id": deal_id}
    won = {"amount": {"amount_minor": 1_250_000, "currency": "USD"}, "close_date": date.today().isoformat()}
    assert stack.call(app, "POST", "/deals/{deal_id}/won", ids, body=won, claims=me)[0] == 200
    reason = {"reason": "The amount included the support renewal."}
    for claims in (me, other):  # partners cannot reverse, not even their own win
        status, error, _ = stack.call(app, "POST", path, ids, body=reason, claims=claims)
        assert status == 403 and error["code"] == "forbidden", error
    for body, field in (({}, "reason"), ({"reason": "x" * 501}, "reason"), (reason | {"amount": 1}, "amount")):
        status, error, _ = stack.call(app, "POST", path, ids, body=body, claims=VENDOR)
        assert status == 400 and field in [e["field"] for e in error["errors"]], (field, error)
    status, error, _ = stack.call(app, "POST", path, {"deal_id": not_won}, body=reason, claims=VENDOR)
    assert status == 409 and error["code"] == "invalid_state" and [e["field"] for e in error["errors"]] == ["status"]
    assert stack.call(app, "POST", path, {"deal_id": "deal_nope"}, body=reason, claims=VENDOR)[0] == 404

    status, reversed_, _ = stack.call(app, "POST", path, ids, body=reason, claims=VENDOR)
    assert status == 200 and reversed_["status"] == "win_reversed" and reversed_["won"] is None
    assert reversed_["win_reversal"]["previous_amount"]["amount_minor"] == 1_250_000
    assert (
        reversed_["timeline"][-1]["status"] == "win_reversed" and reason["reason"] in reversed_["timeline"][-1]["note"]
    )
    assert stack.call(app, "POST", path, ids, body=reason, claims=VENDOR)[1] == reversed_  # the retry replays
    status, error, _ = stack.call(app, "POST", path, ids, body={"reason": "Again."}, claims=VENDOR)
    assert status == 409 and [e["field"] for e in error["errors"]] == ["status"]  # not won any more
    [reversal] = stack.outbox_events("DealsTable", "DealWinReversed", deal_id=deal_id)
    assert (reversal["win_revision"], reversal["reason"], reversal["reversed_by"]) == (
        1,
        reason["reason"],
        "channel@example.com",
    )
    assert reversal["previous_amount"] == won["amount"] and reversal["partner_id"] == me["custom:partner_id"]
    assert status_of(stack, deals, me, deal_id) == "win_reversed"

    corrected = won | {"amount": {"amount_minor": 1_000_000, "currency": "USD"}}
    status, deal, _ = stack.call(app, "POST", "/deals/{deal_id}/won", ids, body=corrected, claims=me)
    assert status == 200 and deal["status"] == "won" and deal["win_revision"] == 2
    wins = sorted(stack.outbox_events("DealsTable", "DealWon", deal_id=deal_id), key=lambda e: e["win_revision"])
    assert [(w["win_revision"], w["amount"]["amount_minor"], w["registered_by"], w["products"]) for w in wins] == [
        (1, 1_250_000, me["email"], ["NET-FW-100"]),
        (2, 1_000_000, me["email"], ["NET-FW-100"]),
    ]
    # the same reason for the corrected win is a new reversal, not a replay of the first
    status, again, _ = stack.call(app, "POST", path, ids, body=reason, claims=VENDOR)
    assert status == 200 and again["win_reversal"]["win_revision"] == 2
    assert [e["win_revision"] for e in stack.outbox_events("DealsTable", "DealWinReversed", deal_id=deal_id)] in (
        [1, 2],
        [2, 1],
    )
    flush(stack, deals)
