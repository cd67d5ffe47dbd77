"""What the PRM costs to run on AWS, per operation: measured from the calls it makes in the local stack.

    .venv/bin/python benchmarks/cost.py            # run every scenario on a fresh local stack (about 4 minutes),
                                                   # write benchmarks/results/cost.json and docs/cost.md, print tables
    .venv/bin/python benchmarks/cost.py --render   # docs/cost.md again from the committed measurement and prices
    .venv/bin/python benchmarks/cost.py --check    # fail if docs/cost.md or README.md's figures differ (make test)

The measurement (counts and durations, no prices) is benchmarks/results/cost.json; the prices are
benchmarks/prices.json. docs/cost.md says how each figure is counted or estimated.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "cost.json"
PRICES = ROOT / "benchmarks" / "prices.json"
DOC = ROOT / "docs" / "cost.md"
README = ROOT / "README.md"  # its "What it costs to run" figures, between these markers, are rendered here too
README_BEGIN = "<!-- figures rendered by benchmarks/cost.py: do not edit by hand -->"
README_END = "<!-- end of figures rendered by benchmarks/cost.py -->"
PER = 1000  # operations the tables are priced for

# Workflow durations short enough that every timer of a scenario comes due while it is measured; approvals long
# enough that nobody is reminded (people decide at once).
PARAMETERS = {
    "ApprovalReminderSeconds": "900",
    "ApprovalEscalationSeconds": "900",
    "ApprovalExpirySeconds": "900",
    "ApplicationConfirmationSeconds": "60",  # its minimum: the confirmation deadline fires (and finds it confirmed)
    "DealProtectionSeconds": "20",
    "DealReminderOffsetsSeconds": "10,5",
    "DealExtensionSeconds": "10",
    "MdfRequestLeadDays": "0",
    "ApplicationRateLimitPerClient": "100000",
    "ConfirmationRateLimitPerClient": "100000",
}
SETTLE_SECONDS = 90.0  # longest wait for a scenario's timers to come due

TARGETS = {"onboarding": 0.10, "deal_to_expiry": 0.10, "mdf_request_to_payment": 0.25}

SCENARIOS = {
    "onboarding": "Partner onboarding: apply, confirm the address, approved by email link, invitation, first sign-in, "
    "agreement accepted",
    "deal_to_expiry": "A deal approved automatically and held until its protection ends, with both reminders",
    "deal_extended_won": "A deal approved by a channel manager's email link, extended once (approved by link), won",
    "mdf_request_to_payment": "An MDF request approved by channel marketing then finance, a claim with two proof "
    "files, approved and paid",
    "certification_tier_upgrade": "An LMS's signed webhook reports an engineer's pass of the last required course: "
    "the certification is earned, the partner's tier re-evaluated, the upgrade approved by the channel team's email "
    "link, the new tier reaching deals and onboarding",
    "reward_to_payout": "A deal approved automatically and won earns a reward (the deal's own work and DealWon's "
    "other consumers included) that the incentives approver approves by email link; the partner user redeems a "
    "payout, finance approves it by link, a vendor admin batches it into a payout file, downloads it and marks it "
    "paid, and the payee is emailed",
    "content_publish_and_download": "A vendor admin uploads a one-page PDF for every partner (presigned POST, "
    "checked and published from the bucket's own event, indexed for search); a partner user finds it by a word of "
    "its title and downloads it by a short-lived link, which is recorded and published",
}
# Each scenario in a few words, for the README's table.
TITLES = {
    "onboarding": "partner onboarding: apply to first sign-in and agreement",
    "deal_to_expiry": "a deal approved automatically, held to protection expiry with both reminders",
    "deal_extended_won": "a deal approved by email link, extended once, won",
    "mdf_request_to_payment": "an MDF request through two approvers, a claim with two proof files, paid",
    "certification_tier_upgrade": "an LMS webhook completes a certification that lifts the tier, approved by email",
    "reward_to_payout": "a won deal earns a reward, approved, redeemed as a payout, paid in a batch",
    "content_publish_and_download": "a vendor admin publishes a PDF, a partner finds and downloads it",
}
# What a scenario's timers still waiting at the end are, by the function they fire.
PENDING_TIMERS = {
    "MdfEventsFunction": "claim due dates",
    "TrainingEventsFunction": "certification expiry reminders and expiry",
    "TiersEventsFunction": "tier re-evaluation as the deal leaves the window",
}

GB_PER_MB = 1 / 1024
# API Gateway access log line: the template's format with typical values (ids, times, a browser's user agent).
ACCESS_LOG_VALUES = {
    "requestId": 36,
    "requestTime": 26,
    "identity.sourceIp": 13,
    "identity.userAgent": 110,
    "httpMethod": 4,
    "resourcePath": 28,
    "status": 3,
    "responseLength": 4,
    "responseLatency": 3,
    "integrationLatency": 3,
    "authorizer.claims.sub": 36,
    "error.responseType": 1,
    "wafResponseCode": 1,
}
LAMBDA_PLATFORM_LOG_BYTES = 330  # AWS's START, END and REPORT lines (with X-Ray ids) per invocation
SQS_POLLERS_PER_QUEUE = 5  # Lambda's SQS event source mapping long-polls with 5 connections when idle
SQS_LONG_POLL_SECONDS = 20
SECONDS_PER_MONTH = 30 * 24 * 3600
# Express workflows bill each execution's duration rounded up to 100 ms, times its memory in 64 MB chunks: 50 MB
# plus the definition plus the execution data (times Map/Parallel branches), so the first chunk for a one-task
# machine with a small input (https://aws.amazon.com/step-functions/pricing/, pricing examples 3 and 4).
EXPRESS_BILLING_MS = 100
EXPRESS_MEMORY_MB = 64


# ================================================================================== measurement (needs the stack)


def _harness_client(stack: Any, service: str) -> Any:
    import boto3
    from botocore.config import Config

    from infrastructure.local.metering import HARNESS_AGENT
    from infrastructure.local.stack import DUMMY_CREDENTIALS
    from infrastructure.local.template import REGION

    return boto3.session.Session().client(
        service,
        endpoint_url=stack.moto_url,
        region_name=REGION,
        config=Config(user_agent_extra=HARNESS_AGENT),
        **DUMMY_CREDENTIALS,
    )


def _schedules(stack: Any) -> dict[str, Any]:
    from infrastructure.local import moto_patches
    from infrastructure.local.template import REGION

    backend = moto_patches.scheduler_backend(REGION)
    return {
        f"{g.name}/{name}": s for g in list(backend.schedule_groups.values()) for name, s in list(g.schedules.items())
    }


def _log_sizes(stack: Any) -> dict[str, int]:
    return {path.stem: path.stat().st_size for path in (stack.state_dir / "logs").glob("*.log")}


def _settle(stack: Any, known_schedules: set[str]) -> None:
    """Wait until the scenario's timers that come due within SETTLE_SECONDS have fired and all work is done."""
    from infrastructure.local.scheduler import due_time

    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        stack.wait_idle(timeout=60)
        horizon = datetime.now(UTC) + timedelta(seconds=max(0.0, deadline - time.monotonic()))
        waiting = [
            s
            for key, s in _schedules(stack).items()
            if key not in known_schedules
            and (due := due_time(s.schedule_expression, getattr(s, "schedule_expression_timezone", None))) is not None
            and due <= horizon
            and not getattr(s, "prm_completed", False)
        ]
        if not waiting:
            break
        time.sleep(0.5)
    time.sleep(1.0)
    stack.wait_idle(timeout=60)
    time.sleep(1.0)
    stack.wait_idle(timeout=60)


def _pending_timers(stack: Any, known: set[str]) -> list[dict[str, Any]]:
    """Timers the scenario created that are still waiting (they fire after the measurement, e.g. claim due dates)."""
    functions = {}
    for mapping in stack._mappings:
        queue_arn = getattr(mapping, "queue_arn", None)
        if queue_arn:
            functions[queue_arn] = mapping.function.spec.logical_id
    pending = []
    for key, schedule in _schedules(stack).items():
        if key in known or getattr(schedule, "prm_completed", False):
            continue
        arn = str((schedule.target or {}).get("Arn", ""))
        pending.append({"name": key.split("/", 1)[1], "function": functions.get(arn, "?")})
    return pending


def _executions(stack: Any, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each Step Functions execution the scenario started: its machine's type, the state transitions a Standard
    execution bills (states entered) and the duration an Express one bills (start to stop)."""
    sfn = _harness_client(stack, "stepfunctions")
    types: dict[str, str] = {}
    found = []
    for call in calls:
        if call["service"] != "stepfunctions" or call["action"] != "StartExecution" or call["status"] != 200:
            continue
        machine = call["state_machine"]
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + call["execution"]
        events: list[dict[str, Any]] = []
        token = None
        while True:
            page = sfn.get_execution_history(
                executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        execution = sfn.describe_execution(executionArn=arn)
        if machine not in types:
            types[machine] = str(sfn.describe_state_machine(stateMachineArn=machine).get("type") or "STANDARD")
        stopped = execution.get("stopDate")
        found.append(
            {
                "state_machine": machine.rsplit(":", 1)[-1],
                "type": types[machine],
                "status": execution["status"],
                "transitions": state_transitions(events),
                "events": len(events),
                "duration_ms": round((stopped - execution["startDate"]).total_seconds() * 1000, 1) if stopped else None,
            }
        )
    return found


def state_transitions(history: list[dict[str, Any]]) -> int:
    """Standard workflows bill one transition per state entered (retries and Map iterations included)."""
    return sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))


def _emf_metrics(text: str) -> set[str]:
    metrics = set()
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            blob = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        for directive in (blob.get("_aws") or {}).get("CloudWatchMetrics") or []:
            for dimensions in directive.get("Dimensions") or [[]]:
                for metric in directive.get("Metrics") or []:
                    dims = ",".join(f"{d}={blob.get(d)}" for d in dimensions)
                    metrics.add(f"{directive.get('Namespace')}/{metric.get('Name')}[{dims}]")
    return metrics


def measure_scenario(stack: Any, meter: Any, name: str, story: Callable[[], None]) -> dict[str, Any]:
    _settle(stack, set())  # timers of the setup or of the previous scenario that come due soon fire before, not in it
    known = set(_schedules(stack))
    logs_before = _log_sizes(stack)
    fired_before = stack._scheduler.fired
    meter.reset()
    started = time.monotonic()
    story()
    _settle(stack, known)
    seconds = time.monotonic() - started
    raw = meter.snapshot()
    fired = stack._scheduler.fired - fired_before
    pending = _pending_timers(stack, known)
    log_bytes: dict[str, int] = {}
    metrics: set[str] = set()
    for function, size in _log_sizes(stack).items():
        grown = size - logs_before.get(function, 0)
        if grown > 0:
            log_bytes[function] = grown
            with (stack.state_dir / "logs" / f"{function}.log").open("rb") as log:
                log.seek(logs_before.get(function, 0))
                metrics |= _emf_metrics(log.read().decode(errors="replace"))
    return summarise(name, raw, fired, pending, _executions(stack, raw["calls"]), log_bytes, metrics, seconds)


def summarise(
    name: str,
    raw: dict[str, list[dict[str, Any]]],
    fired: int,
    pending: list[dict[str, Any]],
    executions: list[dict[str, Any]],
    log_bytes: dict[str, int],
    metrics: set[str],
    seconds: float,
) -> dict[str, Any]:
    """The measurement of one scenario as stored in results/cost.json: counts and durations, no prices."""
    calls: dict[str, dict[str, Any]] = {}
    received_ids: set[str] = set()
    for call in raw["calls"]:
        if call["service"] in {"moto-api"} or call["source"] == "harness":
            continue
        action = call["action"]
        if call["service"] == "sqs" and action == "ReceiveMessage" and not call.get("messages"):
            action = "ReceiveMessage (empty)"
        key = f"{call['service']} {action} [{call['source']}]"
        entry = calls.setdefault(key, {"calls": 0, "request_bytes": 0, "response_bytes": 0})
        entry["calls"] += 1
        entry["request_bytes"] += call["request_bytes"]
        entry["response_bytes"] += call["response_bytes"]
        for field in ("wru", "index_wru", "rru", "events", "event_chunks", "event_bytes", "messages", "chunks",
                      "recipients", "bytes_in", "items"):  # fmt: skip
            if field in call:
                entry[field] = entry.get(field, 0) + call[field]
        if call["service"] == "sqs" and action == "ReceiveMessage":
            entry["chunks"] = entry.get("chunks", 0) + max(1, math.ceil(call["response_bytes"] / 65536))
            received_ids.update(call.get("message_ids") or [])
        if "meter_error" in call:
            entry["meter_errors"] = entry.get("meter_errors", 0) + 1
    invocations: dict[str, list[float]] = defaultdict(list)
    cold: Counter[str] = Counter()
    for invocation in raw["invocations"]:
        invocations[invocation["function"]].append(round(float(invocation["duration_ms"] or 0.0), 1))
        if invocation["init_ms"] is not None:
            cold[invocation["function"]] += 1
    api = raw["api_requests"]
    return {
        "description": SCENARIOS[name],
        "seconds": round(seconds, 1),
        "api_requests": len(api),
        "api_by_route": dict(sorted(Counter(f"{r['method']} {_route(r['path'])} {r['status']}" for r in api).items())),
        "invocations_ms": {k: sorted(v) for k, v in sorted(invocations.items())},
        "cold_starts": dict(sorted(cold.items())),
        "calls": dict(sorted(calls.items())),
        "sqs_messages_received": len(received_ids),
        "scheduler_fired": fired,
        "timers_pending": sorted(Counter(p["function"] for p in pending).items()),
        "executions": sorted(executions, key=lambda e: (e["state_machine"], e["transitions"])),
        "log_bytes": dict(sorted(log_bytes.items())),
        "emf_metrics": sorted(metrics),
    }


_ID_SEGMENT = re.compile(r"/(?=[^/]*\d)[^/]{8,}")


def _route(path: str) -> str:
    return _ID_SEGMENT.sub("/{id}", path)


def template_facts(stack: Any) -> dict[str, Any]:
    """What the fixed monthly costs are counted from: resources of template.yaml and the functions' memory."""
    template = stack.template
    resources = template.resources
    acl = next((r for r in resources.values() if r.get("Type") == "AWS::WAFv2::WebACL"), {})
    sqs_sources = 0
    stream_sources = 0
    memory = {}
    for logical_id, function in stack.runtime.functions.items():
        memory[logical_id] = function.spec.memory_mb
    for resource in resources.values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            sqs_sources += event.get("Type") == "SQS"
            stream_sources += event.get("Type") == "DynamoDB"
    count = Counter(r.get("Type") for r in resources.values())
    return {
        "function_memory_mb": dict(sorted(memory.items())),
        "architecture": "arm64",
        "sqs_event_sources": sqs_sources,
        "stream_event_sources": stream_sources,
        "alarms": count["AWS::CloudWatch::Alarm"],
        "secrets": count["AWS::SecretsManager::Secret"],
        "kms_keys": count["AWS::KMS::Key"],
        "web_acls": count["AWS::WAFv2::WebACL"],
        "web_acl_rules": len((acl.get("Properties") or {}).get("Rules") or []),
        "tables": count["AWS::DynamoDB::Table"],
        "state_machines": count["AWS::Serverless::StateMachine"],
        "access_log_line_bytes": _access_log_bytes(stack),
    }


def _access_log_bytes(stack: Any) -> int:
    for resource in stack.template.resources.values():
        setting = ((resource.get("Properties") or {}).get("AccessLogSetting") or {}).get("Format")
        if isinstance(setting, str):
            line = setting
            for name, size in ACCESS_LOG_VALUES.items():
                line = line.replace(f"$context.{name}", "x" * size)
            return len(line) + 1
    return 0


def run_measurement() -> dict[str, Any]:
    from infrastructure.local.metering import Meter
    from infrastructure.local.people import People
    from infrastructure.local.stack import LocalStack

    meter = Meter()
    with tempfile.TemporaryDirectory(prefix="prm-cost-") as state:
        stack = LocalStack(
            port=0, moto_port=0, parameters=PARAMETERS, state_dir=Path(state), fresh=True, seed=False, meter=meter
        )
        stack.start()
        try:
            people = People(stack)
            world = _setup(stack, people)
            results = {}
            for name, scenario in _stories(stack, people, world).items():
                for session in (world["admin"], world["partner"].session):  # ID tokens outlive no whole run
                    people.refresh(session)
                if scenario.prepare:
                    print(f"preparing {name} ...", flush=True)
                    scenario.prepare()
                print(f"measuring {name} ...", flush=True)
                results[name] = measure_scenario(stack, meter, name, scenario.story)
                if scenario.check:
                    scenario.check(results[name])
            facts = template_facts(stack)
        finally:
            stack.stop(snapshot=False)
    return {
        "measured_on": date.today().isoformat(),
        "parameters": PARAMETERS,
        "template": facts,
        "scenarios": results,
    }


@dataclass(frozen=True)
class Scenario:
    """A story measured on its own: `prepare` runs before the counters are reset (what only this story needs), `check`
    after they are read (that the story did what it says, without counting the look)."""

    story: Callable[[], None]
    prepare: Callable[[], None] | None = None
    check: Callable[[dict[str, Any]], None] | None = None


def _setup(stack: Any, people: Any) -> dict[str, Any]:
    """What the scenarios need and is not part of any: products, the agreement, a programme period, one partner
    onboarded and known to deals and MDF, with a fund."""
    from tests.support.mdf import current_period, wait_for_partner
    from tests.support.partners import onboard, vendor_admin

    admin = vendor_admin(people, name="Cost Admin")
    agreement = {"version": "2026-01", "title": "Partner Programme Agreement", "body": "1. Scope. " + "Terms. " * 200}
    people.api("POST", "/agreements", session=admin, json=agreement).raise_for_status()
    for sku, name, family in [("NET-FW-100", "Firewall 100", "Security"), ("NET-SW-48", "Switch 48-port", "Net")]:
        people.api("POST", "/products", session=admin, json={"sku": sku, "name": name, "family": family})
    period = current_period(people, admin)
    partner = onboard(people, company="Cost Networks")
    wait_for_partner(people, admin, partner.partner_id)
    allocation = {"partner_id": partner.partner_id, "period_id": period, "note": "Quarterly MDF"}
    allocation["amount"] = {"amount_minor": 5_000_000, "currency": "USD"}
    people.api("POST", "/mdf/allocations", session=admin, json=allocation).raise_for_status()
    stack.wait_idle(timeout=60)
    return {"admin": admin, "period": period, "partner": partner}


def _stories(  # noqa: PLR0915 - one closure per scenario
    stack: Any, people: Any, world: dict[str, Any]
) -> dict[str, Scenario]:
    from tests.support.factories import application_body, deal_body, unique_domain
    from tests.support.mdf import FINANCE, MARKETING, PDF, claim_body, proof_links, request_body, upload_proof
    from tests.support.partners import APPROVER, PASSWORD

    partner = world["partner"]
    channel_manager = "emea-channel@example.com"

    def one_mail(predicate: Any, timeout: float = 60) -> Any:
        [mail] = people.wait_for_mail(predicate, timeout=timeout)
        return mail

    def onboarding() -> None:
        domain = unique_domain("reseller", "co.uk")
        body = application_body(domain, company_name="Measured Networks", contact_email=f"ada@{domain}")
        answer = people.api("POST", "/applications", json=body)
        assert answer.status_code == 201, answer.text
        application_id = answer.json()["application_id"]
        assert people.confirm_application(body["contact_email"], application_id).status_code == 200
        request = one_mail(people.to(APPROVER, containing=application_id))
        assert people.decide(people.links(request)["approve"]).status_code == 200
        invitation = one_mail(people.to(body["contact_email"], containing="data-temporary-password"))
        session = people.sign_in(body["contact_email"], people.temporary_password(invitation), new_password=PASSWORD)
        me = people.api("GET", "/me", session=session).json()
        assert me["agreement"]["required"], me
        version = {"version": me["agreement"]["current_version"]}
        people.api("POST", "/agreements/current/acceptance", session=session, json=version).raise_for_status()

    def deal(amount: int) -> tuple[str, dict[str, Any]]:
        domain = unique_domain("prospect", "co.uk")
        body = deal_body(domain, company=f"Globex {domain[9:17]} Ltd", amount=amount)
        answer = people.api("POST", "/deals", session=partner.session, json=body)
        assert answer.status_code == 201, answer.text
        return body["prospect"]["company_name"], answer.json()

    def deal_to_expiry() -> None:
        company, _receipt = deal(1_200_000)  # below the automatic approval limit
        # Both shortened reminders read "1 day" left; each is its own email (one per end date and configured offset).
        people.wait_for_mail(people.to(partner.email, subject="Protection ends in", containing=company), count=2)

    def deal_extended_won() -> None:
        company, receipt = deal(10_000_000)  # above it: the channel manager decides
        deal_id = receipt["deal_id"]
        request = one_mail(people.to(channel_manager, containing=company))
        assert people.decide(people.links(request)["approve"]).status_code == 200
        stack.wait_idle(timeout=60)
        justification = {"justification": "The customer's board moved its decision to next quarter."}
        answer = people.api("POST", f"/deals/{deal_id}/extension", session=partner.session, json=justification)
        assert answer.status_code == 202, answer.text
        extension = one_mail(people.to(channel_manager, subject=f"Extension: {company}"))
        assert people.decide(people.links(extension)["approve"]).status_code == 200
        stack.wait_idle(timeout=60)
        won = {"amount": {"amount_minor": 9_500_000, "currency": "USD"}, "close_date": date.today().isoformat()}
        answer = people.api("POST", f"/deals/{deal_id}/won", session=partner.session, json=won)
        assert answer.status_code == 200, answer.text

    def mdf_request_to_payment() -> None:
        session = partner.session
        answer = people.api("POST", "/mdf/requests", session=session, json=request_body(world["period"], 1_300_000))
        assert answer.status_code == 201, answer.text
        request_id = answer.json()["request_id"]
        marketing = one_mail(people.to(MARKETING, containing=f"/approvals/mdf-{request_id}-1-marketing?"))
        assert people.decide(people.links(marketing)["approve"], amount="12000.00").status_code == 200
        finance = one_mail(people.to(FINANCE, containing=f"/approvals/mdf-{request_id}-1-finance?"))
        assert people.decide(people.links(finance)["approve"], amount="11000.00").status_code == 200
        stack.wait_idle(timeout=60)
        invoice = upload_proof(people, session, request_id, PDF, name="invoice.pdf")
        attendees = upload_proof(people, session, request_id, PDF.replace(b"612 792", b"595 842"), name="list.pdf")
        claim = claim_body([invoice, attendees], 1_050_000)
        answer = people.api("POST", f"/mdf/requests/{request_id}/claim", session=session, json=claim)
        assert answer.status_code == 201, answer.text
        review = one_mail(people.to(MARKETING, containing=f"/approvals/mdf-claim-{request_id}-1-0?"))
        for link in proof_links(review):  # the reviewer opens both proof files before deciding
            import requests

            redirect = people.http.get(link, allow_redirects=False, timeout=30)
            assert redirect.status_code == 302, redirect.text
            assert requests.get(redirect.headers["Location"], timeout=30).status_code == 200
        assert people.decide(people.links(review)["approve"], amount="10500.00").status_code == 200
        one_mail(people.to(partner.email, subject="MDF claim approved"))

    return {
        "onboarding": Scenario(onboarding),
        "deal_to_expiry": Scenario(deal_to_expiry),
        "deal_extended_won": Scenario(deal_extended_won),
        "mdf_request_to_payment": Scenario(mdf_request_to_payment),
        "certification_tier_upgrade": _certification_tier_upgrade(stack, people, world),
        "reward_to_payout": _reward_to_payout(stack, people, world),
        "content_publish_and_download": _content_publish_and_download(people, world),
    }


def _certification_tier_upgrade(stack: Any, people: Any, world: dict[str, Any]) -> Scenario:
    """The demo's training catalogue and programme (`infrastructure/local/seed_programme.py`), prepared last so the
    other scenarios run as before: a Silver partner with a won deal, its admin certified and a colleague who has
    passed the first required course; the story is the LMS's pass of the second."""
    from infrastructure.local.seed_programme import (
        approve_upgrade,
        define_training,
        deliver,
        publish_programme,
        standing,
        wait_for_tier,
    )
    from tests.support.partners import onboard

    company = "Certified Networks"
    prepared: dict[str, Any] = {}

    def prepare() -> None:
        admin = world["admin"]
        catalogue = define_training(people, admin, connection_name="Cost LMS")
        publish_programme(people, admin, catalogue.certification_id)
        partner = onboard(people, company=company)
        wait_for_tier(people, partner.session, "registered")
        colleague = f"bob@{partner.domain}"
        invited = {"email": colleague, "name": "Bob Engineer", "role": "partner-user"}
        answer = people.api("POST", f"/partners/{partner.partner_id}/users", session=partner.session, json=invited)
        assert answer.status_code == 201, answer.text
        people.wait_for_mail(people.to(colleague, containing="data-temporary-password"), timeout=30)
        _won_deal(people, partner.session, 2_000_000)
        yesterday = datetime.now(UTC) - timedelta(days=1)
        for course in ("NET-101", "NET-201"):
            assert deliver(people, catalogue, partner.email, course, yesterday).status_code == 200
        assert approve_upgrade(people, company, "Silver").status_code == 200
        wait_for_tier(people, partner.session, "silver")
        assert deliver(people, catalogue, colleague, "NET-101", yesterday).status_code == 200
        stack.wait_idle(timeout=60)
        prepared.update(catalogue=catalogue, partner=partner, colleague=colleague)

    def story() -> None:
        partner, catalogue = prepared["partner"], prepared["catalogue"]
        passed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
        answer = deliver(people, catalogue, prepared["colleague"], "NET-201", passed_at)
        assert answer.status_code == 200 and answer.json() == {"status": "accepted"}, answer.text
        assert approve_upgrade(people, company, "Gold").status_code == 200
        people.wait_for_mail(people.to(partner.email, subject="Your organisation is now Gold"), timeout=60)

    def check(measured: dict[str, Any]) -> None:
        partner = prepared["partner"]
        now = standing(people, partner.session)
        assert now["tier"]["tier_id"] == "gold" and now["pending_upgrade"] is None, now
        profile = people.api("GET", f"/partners/{partner.partner_id}", session=partner.session).json()
        assert profile["tier_id"] == "gold", profile  # onboarding's projection of PartnerTierChanged
        reached = {"DealsEventsFunction", "OnboardingEventsFunction"} - set(measured["invocations_ms"])
        assert not reached, f"PartnerTierChanged did not reach {reached}"

    return Scenario(story, prepare, check)


def _reward_to_payout(stack: Any, people: Any, world: dict[str, Any]) -> Scenario:
    """A rewards campaign, prepared last so no earlier scenario's win earns under it: 200.00 USD per won deal, at or
    above its auto-approval amount. The deal is registered in the story: with the shortened protection it would end
    before a deal registered in `prepare` could be won."""
    import requests

    from infrastructure.local import seed_rewards

    partner = world["partner"]
    prepared: dict[str, Any] = {}

    def prepare() -> None:
        today = date.today()
        campaign = {
            "name": "Cost: cash per won deal",
            "starts_on": (today - timedelta(days=1)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            "unit": "USD",
            "budget": 10_000_000,
            "auto_approve_below": 10_000,
            "rules": [{"kind": "deal_won_fixed", "amount": 20_000}],
        }
        answer = people.api("POST", "/rewards/campaigns", session=world["admin"], json=campaign)
        assert answer.status_code == 201, answer.text
        stack.wait_idle(timeout=60)

    def story() -> None:
        session = partner.session
        answer = people.api("POST", "/deals", session=session, json=deal_body_for_cost())
        assert answer.status_code == 201, answer.text
        deal_id = answer.json()["deal_id"]
        seed_rewards.wait_for_deal(people, session, deal_id, "approved")
        answer = seed_rewards.win(people, session, deal_id, 1_200_000)
        assert answer.status_code == 200, answer.text
        rewards = seed_rewards.wait_for(
            people, session, lambda r: seed_rewards.rewards_of(r, source_id=deal_id), what="nothing earned"
        )
        [reward] = seed_rewards.rewards_of(rewards, source_id=deal_id)
        assert seed_rewards.decide_reward(people, reward["id"]).status_code == 200
        seed_rewards.wait_for(
            people,
            session,
            lambda r: [x for x in seed_rewards.rewards_of(r, source_id=deal_id) if x["status"] == "available"],
            what="the approved reward is not available",
        )
        answer = seed_rewards.redeem_payout(people, session, 15_000)
        assert answer.status_code == 201, answer.text
        payout_id = answer.json()["redemption_id"]
        assert seed_rewards.decide_payout(people, payout_id).status_code == 200
        seed_rewards.wait_for_redemption(people, session, payout_id, "approved")
        answer = people.api("POST", "/rewards/payout-batches", session=world["admin"], json={})
        assert answer.status_code == 201, answer.text
        batch_id = answer.json()["batch_id"]
        answer = people.api("GET", f"/rewards/payout-batches/{batch_id}", session=world["admin"])
        assert requests.get(answer.json()["download"]["url"], timeout=30).status_code == 200
        answer = people.api("POST", f"/rewards/payout-batches/{batch_id}/paid", session=world["admin"], json={})
        assert answer.status_code == 200, answer.text
        people.wait_for_mail(people.to(partner.email, subject="Payout paid"), timeout=60)
        prepared["payout_id"] = payout_id

    def check(measured: dict[str, Any]) -> None:
        paid = seed_rewards.redemption(people, partner.session, prepared["payout_id"])
        assert paid["status"] == "paid", paid
        machines = {e["state_machine"] for e in measured["executions"]}
        assert {"prm-dev-reward-approval", "prm-dev-reward-payout-approval"} <= machines, machines

    def deal_body_for_cost() -> dict[str, Any]:
        from tests.support.factories import deal_body, unique_domain

        return deal_body(unique_domain("prospect", "co.uk"), amount=1_200_000)

    return Scenario(story, prepare, check)


def _content_publish_and_download(people: Any, world: dict[str, Any]) -> Scenario:
    """One asset's life that every library pays for: the upload, its processing from the S3 event, the index, one
    search that finds it and one download (the seed's real-file helpers)."""
    import requests

    from infrastructure.local import seed_content

    partner = world["partner"]
    word = f"cost{uuid.uuid4().hex[:8]}"  # a word only this asset's title has

    def story() -> None:
        pdf = seed_content.pdf_document(f"Battlecard {word}", [["Why customers choose the Firewall 900."]])
        body = {
            "title": f"Battlecard {word}",
            "description": "One page for sellers.",
            "type": "document",
            "language": "en",
            "tags": ["battlecard"],
            "file": {"file_name": "battlecard.pdf", "content_type": "application/pdf", "size_bytes": len(pdf)},
        }
        asset = seed_content.upload_asset(people, world["admin"], body, pdf)
        assert seed_content.wait_until_processed(people, world["admin"], asset["asset_id"])["status"] == "ready"
        deadline = time.monotonic() + 60
        while True:  # the index is written from ContentPublished, a moment after processing
            found = people.api("GET", f"/content/library?q={word}", session=partner.session)
            assert found.status_code == 200, found.text
            if [a for a in found.json()["items"] if a["asset_id"] == asset["asset_id"]]:
                break
            assert time.monotonic() < deadline, f"{word} is not found"
            time.sleep(0.3)
        answer = people.api(
            "POST", f"/content/assets/{asset['asset_id']}/downloads", session=partner.session, json={"kind": "download"}
        )
        assert answer.status_code == 201, answer.text
        assert requests.get(answer.json()["url"], timeout=30).content == pdf

    return Scenario(story)


def _won_deal(people: Any, session: Any, won_minor: int) -> None:
    """A deal approved automatically (once deals has learned of the partner from the bus), then won."""
    from tests.support.factories import deal_body, unique_domain

    deadline = time.monotonic() + 60
    while True:
        body = deal_body(unique_domain("prospect", "co.uk"), amount=1_200_000)
        answer = people.api("POST", "/deals", session=session, json=body)
        if answer.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert answer.status_code == 201, answer.text
    deal_id = answer.json()["deal_id"]
    while people.api("GET", f"/deals/{deal_id}", session=session).json()["status"] != "approved":
        assert time.monotonic() < deadline, f"{deal_id} was not approved automatically"
        time.sleep(0.5)
    won = {"amount": {"amount_minor": won_minor, "currency": "USD"}, "close_date": date.today().isoformat()}
    answer = people.api("POST", f"/deals/{deal_id}/won", session=session, json=won)
    assert answer.status_code == 200, answer.text


# ================================================================================== pricing (pure)


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def unit_price(prices: dict[str, Any], key: str) -> float:
    entry = prices["prices"][key]
    return float(entry["usd"]) / float(entry["per"])


def gb_seconds(durations_ms: list[float], memory_mb: int) -> float:
    """Lambda bills each invocation's duration rounded up to the next millisecond, times its memory in GB."""
    return sum(math.ceil(ms) for ms in durations_ms) / 1000 * memory_mb * GB_PER_MB


def express_gb_seconds(durations_ms: list[float], memory_mb: int = EXPRESS_MEMORY_MB) -> float:
    """Express workflows bill each execution's duration rounded up to 100 ms, times its memory in 64 MB chunks."""
    billed_ms = sum(math.ceil(ms / EXPRESS_BILLING_MS) * EXPRESS_BILLING_MS for ms in durations_ms)
    return billed_ms / 1000 * math.ceil(memory_mb / 64) * 64 * GB_PER_MB


def step_functions_lines(executions: list[dict[str, Any]]) -> list[tuple[str, float, str, str]]:
    """(item, quantity, price key, how): a Standard workflow bills the states it enters, an Express one its start
    and its duration (an execution recorded without a type is Standard: every one was, before issue 10)."""
    standard = [e for e in executions if e.get("type", "STANDARD") == "STANDARD"]
    express = [e for e in executions if e.get("type") == "EXPRESS"]
    durations = [float(e.get("duration_ms") or 0.0) for e in express]
    seconds = f"Express GB-seconds ({EXPRESS_MEMORY_MB} MB, local durations per started {EXPRESS_BILLING_MS} ms)"
    return [
        ("Standard state transitions", sum(e["transitions"] for e in standard), "stepfunctions_standard_transition",
         "counted"),
        ("Express requests (executions started)", len(express), "stepfunctions_express_request", "counted"),
        (seconds, express_gb_seconds(durations), "stepfunctions_express_gb_second", "estimated"),
    ]  # fmt: skip


def _calls(scenario: dict[str, Any], service: str, *actions: str, source: str | None = None) -> list[dict[str, Any]]:
    found = []
    for key, entry in scenario["calls"].items():
        name, _, rest = key.partition(" ")
        action, _, who = rest.rpartition(" [")
        if name == service and (not actions or action in actions) and (source is None or who[:-1] == source):
            found.append(entry)
    return found


def _sum(entries: list[dict[str, Any]], field: str) -> float:
    return float(sum(entry.get(field, 0) for entry in entries))


def line_items(scenario: dict[str, Any], facts: dict[str, Any], prices: dict[str, Any]) -> list[dict[str, Any]]:
    """One scenario's bill: [{service, item, quantity, unit, usd, how}] for one operation (USD, unrounded)."""
    items: list[dict[str, Any]] = []

    def add(service: str, item: str, quantity: float, price_key: str | None, how: str, *, apart: bool = False) -> None:
        usd = quantity * unit_price(prices, price_key) if price_key else 0.0
        items.append({"service": service, "item": item, "quantity": quantity, "usd": usd, "how": how, "apart": apart})

    memory = facts["function_memory_mb"]
    api = scenario["api_requests"]
    add("API Gateway", "REST API requests", api, "apigateway_request", "counted")
    add("WAF", "requests inspected by the API's web ACL", api, "waf_request", "counted")

    invocations = sum(len(v) for v in scenario["invocations_ms"].values())
    add("Lambda", "invocations", invocations, "lambda_request", "counted")
    seconds = sum(gb_seconds(ms, memory.get(fn, 512)) for fn, ms in scenario["invocations_ms"].items())
    add("Lambda", "GB-seconds (arm64, local handler durations)", seconds, "lambda_gb_second_arm64", "estimated")

    writes = _sum(_calls(scenario, "dynamodb"), "wru")
    index_writes = _sum(_calls(scenario, "dynamodb"), "index_wru")
    reads = _sum(_calls(scenario, "dynamodb"), "rru")
    add("DynamoDB", "write request units (tables)", writes, "dynamodb_write_request_unit", "from item sizes")
    add("DynamoDB", "write request units (global secondary indexes)", index_writes, "dynamodb_write_request_unit",
        "from item sizes")  # fmt: skip
    add("DynamoDB", "read request units", reads, "dynamodb_read_request_unit", "from item sizes")

    events = _calls(scenario, "events", "PutEvents")
    add("EventBridge", "custom events published (64 KB chunks)", _sum(events, "event_chunks"),
        "eventbridge_custom_event", "counted")  # fmt: skip
    add("EventBridge", "GB archived", _sum(events, "event_bytes") / 1024**3, "eventbridge_archive_gb", "counted")

    sent_through_api = _sum(_calls(scenario, "sqs", "SendMessage", "SendMessageBatch"), "messages")
    delivered_by_rules = max(0.0, scenario["sqs_messages_received"] - sent_through_api)
    sqs_requests = (
        _sum(_calls(scenario, "sqs", "SendMessage", "SendMessageBatch"), "chunks")
        + _sum(_calls(scenario, "sqs", "ReceiveMessage"), "chunks")
        + sum(e["calls"] for e in _calls(scenario, "sqs", "DeleteMessage", "DeleteMessageBatch"))
        + sum(e["calls"] for e in _calls(scenario, "sqs", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"))
        + delivered_by_rules
    )
    add("SQS", "requests: sends, EventBridge deliveries, Lambda's receives and deletes", sqs_requests, "sqs_request",
        "counted")  # fmt: skip

    add("EventBridge Scheduler", "timer invocations", scenario["scheduler_fired"], "scheduler_invocation", "counted")
    for item, quantity, price_key, how in step_functions_lines(scenario["executions"]):
        add("Step Functions", item, quantity, price_key, how)

    tier1 = sum(e["calls"] for e in _calls(scenario, "s3", "PutObject", "PostObject", "CopyObject", "ListObjects"))
    tier2 = sum(e["calls"] for e in _calls(scenario, "s3", "GetObject", "HeadObject", "HeadBucket"))
    add("S3", "PUT/POST/COPY/LIST requests", tier1, "s3_tier1_request", "counted")
    add("S3", "GET/HEAD requests", tier2, "s3_tier2_request", "counted")
    add("Secrets Manager", "API calls", sum(e["calls"] for e in _calls(scenario, "secretsmanager")),
        "secretsmanager_api_call", "counted per warm container")  # fmt: skip

    traces = api + max(0, invocations - api) + len(scenario["executions"])
    add("X-Ray", "traces recorded (every request sampled)", traces, "xray_trace_recorded", "estimated")

    function_logs = sum(scenario["log_bytes"].values())
    platform = invocations * LAMBDA_PLATFORM_LOG_BYTES
    access = api * facts["access_log_line_bytes"]
    add("CloudWatch Logs", "GB ingested: function logs and EMF metrics (measured)", function_logs / 1024**3,
        "cloudwatch_logs_ingested_gb", "counted")  # fmt: skip
    add("CloudWatch Logs", "GB ingested: Lambda platform lines and API access log", (platform + access) / 1024**3,
        "cloudwatch_logs_ingested_gb", "estimated")  # fmt: skip

    sign_ins = sum(e["calls"] for e in _calls(scenario, "cognito-idp", "InitiateAuth", "RespondToAuthChallenge"))
    add("Cognito", "sign-in calls (billed per monthly active user, not per call)", sign_ins, None, "counted")

    pending = sum(count for _, count in scenario["timers_pending"])
    if pending:
        median = _median_ms(scenario, [fn for fn, _ in scenario["timers_pending"]])
        kinds = ", ".join(PENDING_TIMERS.get(fn, f"fired to {fn}") for fn, _ in scenario["timers_pending"])
        per_timer = (
            unit_price(prices, "scheduler_invocation")
            + 3 * unit_price(prices, "sqs_request")
            + unit_price(prices, "lambda_request")
            + gb_seconds([median], 512) * unit_price(prices, "lambda_gb_second_arm64")
            + 0.5 * unit_price(prices, "dynamodb_read_request_unit")
            + unit_price(prices, "xray_trace_recorded")
            + 2048 / 1024**3 * unit_price(prices, "cloudwatch_logs_ingested_gb")
        )
        items.append(
            {
                "service": "Timers after the run",
                "item": f"timers still waiting at the end ({kinds}), each one firing as measured ones do "
                f"({median:.0f} ms)",
                "quantity": pending,
                "usd": pending * per_timer,
                "how": "estimated",
                "apart": False,
            }
        )
    recipients = _sum(_calls(scenario, "sesv2", "SendEmail"), "recipients") + _sum(
        _calls(scenario, "ses", "SendEmail", "SendRawEmail"), "recipients"
    )
    add("SES", "emails (one per recipient)", recipients, "ses_message", "counted", apart=True)
    return items


def _median_ms(scenario: dict[str, Any], functions: list[str]) -> float:
    durations = [ms for fn in functions for ms in scenario["invocations_ms"].get(fn, [])]
    return statistics.median(durations) if durations else 100.0


def totals(items: list[dict[str, Any]]) -> tuple[float, float, dict[str, float]]:
    """(USD without emails, USD of emails, USD by service) for one operation."""
    by_service: dict[str, float] = defaultdict(float)
    for item in items:
        if not item["apart"]:
            by_service[item["service"]] += item["usd"]
    apart = sum(item["usd"] for item in items if item["apart"])
    return sum(by_service.values()), apart, dict(by_service)


def fixed_monthly(results: dict[str, Any], prices: dict[str, Any]) -> list[tuple[str, str, float]]:
    facts = results["template"]
    polls = SQS_POLLERS_PER_QUEUE * SECONDS_PER_MONTH / SQS_LONG_POLL_SECONDS
    metrics = sorted({m for s in results["scenarios"].values() for m in s["emf_metrics"]})
    return [
        (
            "Lambda's SQS pollers while idle",
            f"{facts['sqs_event_sources']} SQS event sources x {SQS_POLLERS_PER_QUEUE} long polls every "
            f"{SQS_LONG_POLL_SECONDS} s = {facts['sqs_event_sources'] * polls:,.0f} empty receives",
            facts["sqs_event_sources"] * polls * unit_price(prices, "sqs_request"),
        ),
        (
            "DynamoDB stream pollers",
            f"{facts['stream_event_sources']} stream event sources: GetRecords by Lambda triggers is free",
            0.0,
        ),
        (
            "WAF web ACL",
            f"{facts['web_acls']} web ACL with {facts['web_acl_rules']} rate-based rules",
            facts["web_acls"] * unit_price(prices, "waf_web_acl_month")
            + facts["web_acl_rules"] * unit_price(prices, "waf_rule_month"),
        ),
        (
            "CloudWatch alarms",
            f"{facts['alarms']} standard alarms",
            facts["alarms"] * unit_price(prices, "cloudwatch_alarm_month"),
        ),
        (
            "CloudWatch metrics (EMF)",
            f"{len(metrics)} distinct metrics (name and dimensions) the scenarios emitted",
            len(metrics) * unit_price(prices, "cloudwatch_metric_month"),
        ),
        (
            "Secrets Manager",
            f"{facts['secrets']} secret (the link-signing key)",
            facts["secrets"] * unit_price(prices, "secretsmanager_secret_month"),
        ),
        (
            "KMS",
            f"{facts['kms_keys']} customer managed keys (tables, queues and secret use AWS managed or owned keys)",
            facts["kms_keys"] * unit_price(prices, "kms_key_month"),
        ),
    ]


# ================================================================================== rendering


def _usd(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 1:
        return f"{value:,.2f}"
    if value >= 0.01:
        return f"{value:.3f}"
    return f"{value:.4f}" if value >= 0.0001 else f"{value:.6f}"


def _quantity(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def scenario_table(name: str, scenario: dict[str, Any], facts: dict[str, Any], prices: dict[str, Any]) -> list[str]:
    items = line_items(scenario, facts, prices)
    total, emails, by_service = totals(items)
    lines = [
        f"### {name}: {scenario['description']}",
        "",
        f"**{_usd(total * PER)} USD per {PER:,} operations without emails** "
        f"(+ {_usd(emails * PER)} USD for {_quantity(emails / unit_price(prices, 'ses_message')) if emails else 0} "
        f"emails each).",
        "",
        f"| service | what | per operation | USD per {PER:,} | share | how |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for item in items:
        share = "" if item["apart"] or not total else f"{item['usd'] / total:.0%}"
        lines.append(
            f"| {item['service']} | {item['item']} | {_quantity(item['quantity'])} | {_usd(item['usd'] * PER)} "
            f"| {share}{' (apart)' if item['apart'] else ''} | {item['how']} |"
        )
    lines += ["", "By service: " + ", ".join(
        f"{service} {value / total:.0%}" for service, value in sorted(by_service.items(), key=lambda kv: -kv[1])
        if total and value / total >= 0.005
    ) + ".", ""]  # fmt: skip
    executions = Counter(_execution_label(e) for e in scenario["executions"])
    functions = ", ".join(
        f"{fn} {len(ms)}x (median {statistics.median(ms):.0f} ms)" for fn, ms in scenario["invocations_ms"].items()
    )
    lines += [
        "<details><summary>What was counted</summary>",
        "",
        f"- API requests: {', '.join(f'{k} x{v}' for k, v in scenario['api_by_route'].items())}",
        f"- Lambda invocations: {functions}",
        f"- Step Functions executions: {', '.join(f'{k} x{v}' for k, v in executions.items()) or 'none'}",
        f"- Timers fired: {scenario['scheduler_fired']}; still waiting at the end: "
        f"{', '.join(f'{count} for {fn}' for fn, count in scenario['timers_pending']) or 'none'}",
        f"- SQS messages received by Lambda's pollers: {scenario['sqs_messages_received']}",
        "- AWS calls by service, action and caller (`prm` = functions and Step Functions; `stack` = the local "
        "stack's emulation of Lambda's pollers and of Scheduler):",
        "",
        "| call | count | units |",
        "| --- | ---: | --- |",
    ]
    for key, entry in scenario["calls"].items():
        units = ", ".join(
            f"{field} {_quantity(entry[field])}"
            for field in ("wru", "index_wru", "rru", "events", "messages", "recipients", "bytes_in")
            if entry.get(field)
        )
        lines.append(f"| {key} | {entry['calls']} | {units or _not_billed(key)} |")
    lines += ["", "</details>", ""]
    return lines


def _execution_label(execution: dict[str, Any]) -> str:
    status = execution["status"].lower()
    if execution.get("type") == "EXPRESS":
        states = f"{execution['transitions']} state{'' if execution['transitions'] == 1 else 's'}"
        return f"{execution['state_machine']} (Express, {states}, {execution.get('duration_ms') or 0:.0f} ms, {status})"
    return f"{execution['state_machine']} ({execution['transitions']} transitions, {status})"


def lever_table(results: dict[str, Any], prices: dict[str, Any]) -> list[str]:
    """What each scenario would cost per 1,000 operations (without emails) with the levers not yet applied, from the
    same counts: X-Ray sampled at 5%."""
    lines = [
        f"| scenario | USD per {PER:,} now | X-Ray sampled at 5% | target |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, scenario in results["scenarios"].items():
        items = line_items(scenario, results["template"], prices)
        total, _, by_service = totals(items)
        sampled = total - 0.95 * by_service.get("X-Ray", 0.0)
        target = TARGETS.get(name)
        lines.append(f"| {name} | {_usd(total * PER)} | {_usd(sampled * PER)} | {_usd(target) if target else '-'} |")
    return lines


def _not_billed(key: str) -> str:
    """Why a call with no units is not on the bill."""
    if key.startswith("dynamodbstreams"):
        return "free: stream reads by Lambda triggers"
    if "(empty)" in key:
        return "idle polling: the fixed monthly line"
    if key.startswith("sqs GetQueueAttributes [stack]"):
        return "not billed: the local stack's own checks"
    if key.startswith(("cognito-idp", "stepfunctions", "scheduler")):
        return "no charge per call"
    return ""


def scenario_totals(
    results: dict[str, Any], prices: dict[str, Any]
) -> dict[str, tuple[float, float, dict[str, float]]]:
    """Per scenario: (USD per operation without emails, USD of emails per operation, USD per operation by service)."""
    return {
        name: totals(line_items(scenario, results["template"], prices))
        for name, scenario in results["scenarios"].items()
    }


def render_readme_figures(results: dict[str, Any], prices: dict[str, Any]) -> str:
    """The README's headline figures (between README_BEGIN and README_END), from the same counts as docs/cost.md."""
    lines = [
        f"| story | USD per {PER:,}, without emails | emails each | target | met |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    sampled = []
    for name, (total, emails, by_service) in scenario_totals(results, prices).items():
        target = TARGETS.get(name)
        lines.append(
            f"| {TITLES[name]} | {_usd(total * PER)} "
            f"| {_quantity(emails / unit_price(prices, 'ses_message'))} | {_usd(target) if target else '-'} "
            f"| {'-' if target is None else 'yes' if total * PER <= target else 'no'} |"
        )
        if target is not None:
            sampled.append(f"{name} {_usd((total - 0.95 * by_service.get('X-Ray', 0.0)) * PER)}")
    fixed = sum(usd for _, _, usd in fixed_monthly(results, prices))
    lines += [
        "",
        f"Measured {results['measured_on']}, prices dated {prices['date']}. X-Ray sampled at 5% would give "
        f"{', '.join(sampled)}; what else stands between each story and its target is in docs/cost.md "
        f'("Levers"). Fixed costs (WAF web ACL, alarms, metrics, idle queue pollers, the secret) are about '
        f"{fixed:.0f} USD a month.",
    ]
    return "\n".join(lines)


def _with_readme_figures(readme: str, figures: str) -> str:
    head, begin, rest = readme.partition(README_BEGIN)
    _old, end, tail = rest.partition(README_END)
    if not (begin and end):
        raise SystemExit(f"README.md lacks the markers {README_BEGIN!r} ... {README_END!r}")
    return f"{head}{README_BEGIN}\n{figures}\n{README_END}{tail}"


def render(results: dict[str, Any], prices: dict[str, Any]) -> str:
    facts = results["template"]
    summary = [
        f"| scenario | USD per {PER:,} operations, without emails | emails per operation | USD of emails per {PER:,} "
        "| target | met | largest shares |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, scenario in results["scenarios"].items():
        items = line_items(scenario, facts, prices)
        total, emails, by_service = totals(items)
        target = TARGETS.get(name)
        top = sorted(by_service.items(), key=lambda kv: -kv[1])[:3]
        summary.append(
            f"| {name} | {_usd(total * PER)} | {_quantity(emails / unit_price(prices, 'ses_message'))} "
            f"| {_usd(emails * PER)} | {_usd(target) if target else '-'} "
            f"| {'-' if target is None else 'yes' if total * PER <= target else 'no'} "
            f"| {', '.join(f'{s} {v / total:.0%}' for s, v in top)} |"
        )
    fixed = fixed_monthly(results, prices)
    fixed_lines = ["| item | what | USD per month |", "| --- | --- | ---: |"]
    fixed_lines += [f"| {item} | {what} | {_usd(usd)} |" for item, what, usd in fixed]
    fixed_lines.append(f"| **total** | | **{_usd(sum(usd for _, _, usd in fixed))}** |")
    price_lines = ["| price | USD | per | source |", "| --- | ---: | --- | --- |"]
    for key, entry in prices["prices"].items():
        price_lines.append(f"| {key} | {entry['usd']} | {entry['per']:,} {entry['unit']} | {entry['source']} |")
    parts = [
        HEADER.format(date=prices["date"], measured=results["measured_on"], per=f"{PER:,}"),
        "\n".join(summary),
        "",
        METHOD.format(
            platform=LAMBDA_PLATFORM_LOG_BYTES,
            access=facts["access_log_line_bytes"],
            parameters=", ".join(f"`{k}={v}`" for k, v in results["parameters"].items()),
        ),
        "## Per scenario",
        "",
        "\n".join(
            line
            for name, scenario in results["scenarios"].items()
            for line in scenario_table(name, scenario, facts, prices)
        ),
        "## Fixed monthly costs (not per operation)",
        "",
        "\n".join(fixed_lines),
        "",
        FIXED_NOTES,
        "## Levers",
        "",
        LEVERS,
        "\n".join(lever_table(results, prices)),
        "",
        LEVER_NOTES,
        "## Prices",
        "",
        f"List prices, {prices['region']}, {prices['architecture']}, dated {prices['date']} "
        f"(`benchmarks/prices.json`). {prices['note']}",
        "",
        "\n".join(price_lines),
        "",
    ]
    return "\n".join(parts)


HEADER = """# What the PRM costs to run

Generated by `benchmarks/cost.py` from the measurement in `benchmarks/results/cost.json` (taken {measured}) and the
price table `benchmarks/prices.json` (dated {date}); `make test` fails when this file differs from that rendering
(`python benchmarks/cost.py --check`). Do not edit it by hand: change the prices or re-measure (`make bench`).

Each scenario ran once on a fresh local stack (`infrastructure/local`) with every call it made counted, then was
priced at AWS list prices per {per} operations. Emails are business output and are shown apart.

## Summary
"""

METHOD = """## How it is measured

- **Counted, exactly**: the local stack runs every function from `template.yaml` against moto, and with
  `LocalStack(meter=Meter())` (`infrastructure/local/metering.py`) it records every API Gateway request, every Lambda
  invocation and every call to moto (service, action, caller, bytes). The scenario is driven as people act
  (`infrastructure/local/people.py`: the API over HTTP, the emails' links, Cognito sign-in, presigned S3 uploads,
  an LMS's signed Standard Webhooks deliveries);
  counters are reset before it and read once all its asynchronous work (queues, streams, workflows, timers) is
  done. Idle polling is left out of the scenarios (it is a fixed monthly cost, below). The benchmark's own reads
  (execution histories) carry their own user agent and are not counted.
- **DynamoDB request units, from item sizes**: each written item is looked up in moto before and after the write
  (under moto's DynamoDB lock) and billed at 1 write unit per started KB of the larger of the two, at least 1;
  `TransactWriteItems` counts double (ConditionChecks included). Global secondary indexes: one standard write per
  index whose projected item appears, changes or disappears (two when its key changes). Reads: 1 unit per started
  4 KB per item (`GetItem`, `BatchGetItem`, missing items included), per started 4 KB of all items read
  (`Query`), half when eventually consistent. Item size: attribute names plus values by DynamoDB's rules (numbers
  about a byte per two digits; 3 bytes plus 1 per element for maps and lists). Streams read by Lambda triggers
  are free.
- **SQS**: every request the PRM's code and Step Functions make, Scheduler's deliveries, EventBridge's
  deliveries (the messages Lambda's pollers received that nobody sent through the API), and the pollers' receives
  that returned messages and their deletes; each per started 64 KB. Receives that found nothing are the idle line
  below.
- **EventBridge**: entries of `PutEvents` per started 64 KB (the outbox batches up to 10 per call, but AWS bills
  events, not calls); delivery to SQS targets is free; the archive keeps every event (per GB).
- **Step Functions**: Standard workflows (human approvals only) bill one transition per state entered, read from
  each execution's history. Express workflows (automatic deal approvals) bill one request per execution started
  and its duration (start to stop as moto ran it, rounded up to 100 ms) at 64 MB (50 MB plus the definition and a
  small input: the first 64 MB chunk), so the duration line is **estimated**; they log errors only, so a
  successful execution writes no log. **EventBridge Scheduler**: one invocation per timer fired.
- **Timers after the run**: a scenario's timers that come due after the measurement (an MDF claim's due-date
  reminder and deadline, 60 days on; a certification's three expiry reminders and its expiry, 22 to 24 months on;
  the tier re-evaluation when an approved or won deal leaves the tiers' window, a year on) are counted and priced as one Scheduler invocation, three SQS requests, one invocation of their consumer at its
  median measured duration, one read unit, one trace and 2 KB of log each: **estimated**.
- **Lambda duration: estimated.** Each invocation's handler time is measured in its worker process (warm, as
  Lambda reports `Duration`; cold starts are listed with the counts), rounded up to 1 ms and multiplied by the
  function's `MemorySize` from the template (512 MB, arm64). moto answers in-process on a 2-core x86 machine,
  which is not DynamoDB's latency nor Graviton's speed: read these GB-seconds as the right order of magnitude.
  Since August 2025 Lambda also bills the init phase of cold starts; a function's first invocation in a container
  is not in these per-operation figures.
- **X-Ray: estimated.** Tracing is active on the API, every function and the state machines. With the default
  sampling rule (the first request each second, then 5%) a PRM's traffic is nearly all sampled, so one trace is
  counted per API request, per invocation not started by the API (each queue or stream batch starts a trace) and
  per workflow execution: an upper bound.
- **CloudWatch Logs**: the bytes each function wrote to its log during the scenario (Powertools JSON lines and the
  EMF metric lines) are counted; AWS's START/END/REPORT lines ({platform} bytes per invocation) and one API access
  log line per request ({access} bytes: the template's format with typical values) are estimated.
- **Cognito** bills monthly active users, not calls (Essentials: 10,000 MAU free, then per MAU): sign-ins are
  listed, not priced. **Secrets Manager** calls are counted as the local containers made them (one per warm
  container of a function that signs links), like Lambda's. **KMS**: no customer managed keys (tables use AWS
  owned keys, queues SSE-SQS), so no per-request KMS cost.
- Workflow durations were shortened so that every timer comes due during the measurement: {parameters}. With
  reminders seconds apart, a deal's two protection reminders both read "1 day" left; each is still its own email,
  as a real deal's (14 and 3 days) are. Prices
  are list prices without free tiers (the free tiers, e.g. 1 million Lambda requests and 400,000 GB-seconds, 1
  million SQS requests, 100,000 X-Ray traces and 14 million Scheduler invocations a month, make a small deployment
  cheaper still).

"""

FIXED_NOTES = """Also monthly, by size rather than by operation: DynamoDB storage (0.25 USD per GB-month) and point-in-time
recovery (0.20 USD per GB-month) on every table; proof files in S3 (0.023 USD per GB-month: 2 small PDFs per MDF
claim here); CloudWatch Logs storage (0.03 USD per GB-month, one year's retention for the API access log);
the EventBridge archive (0.023 USD per GB-month). CloudFront serves the portal per request and per GB (no monthly
fee). Cognito: 10,000 monthly active users free, then 0.015 USD each (Essentials).
"""

LEVERS = """Applied: automatic deal approvals run as an Express workflow (below). None of the others is applied here:
each changes what the PRM records or how it runs, so each is the lead's call. The figures re-price the same counts
with the lever applied.
"""

LEVER_NOTES = """- **X-Ray sampling.** An `AWS::XRay::SamplingRule` (for example 5%, no reservoir) governs the traces API Gateway
  starts; functions started by a queue, a stream or a workflow sample at Lambda's fixed rate (the first request
  each second, then 5%), which cannot be configured: at a PRM's traffic that is nearly every batch. Only
  `Tracing: PassThrough` on those functions (traced when the message carries a sampled trace header) brings them
  down too. Both trade observability for cost (errors stay in the logs, Powertools logs every exception, and the
  DLQ alarms stay), and below about 100,000 traces a month X-Ray's free tier pays for them anyway.
- **Automatic paths as Express workflows (applied).** A small deal without conflict was approved through a
  Standard execution that took two transitions (25 USD per million each) and never waited for anyone. It now runs
  in `DealAutoApprovalStateMachine`, an Express workflow billed per request (1 USD per million) and per GB-second
  of duration, so Step Functions drives every approval and the Step Functions line of a deal held to expiry is
  nearly gone; human approvals stay Standard workflows with the callback pattern. Deciding it in the consumer
  instead would save that request and the execution's trace as well.
- **Writes.** DynamoDB write units are the largest line once X-Ray is sampled: every state change is a
  transaction (twice the units) with its outbox item, and the deals and MDF tables keep two global secondary
  indexes. The per-scenario call lists show units per action. Items read often are under 1 KB already (reads are
  a small share), so item size is not a lever here.
- **Logs.** Function logs and EMF lines are a few percent; `POWERTOOLS_LOG_LEVEL=WARNING` on the consumers would
  cut most of it, at the price of the INFO trail.
"""


# ================================================================================== entry point


def print_tables(results: dict[str, Any], prices: dict[str, Any]) -> None:
    facts = results["template"]
    for name, scenario in results["scenarios"].items():
        items = line_items(scenario, facts, prices)
        total, emails, _by_service = totals(items)
        print(f"\n{name}: {total * PER:.4f} USD per {PER} operations without emails (+ {emails * PER:.4f} emails)")
        for item in items:
            print(
                f"  {item['service']:<22} {item['item'][:60]:<60} {item['quantity']:>12.4g} {item['usd'] * PER:>10.5f}"
            )
        target = TARGETS.get(name)
        if target is not None:
            print(f"  target {target:.2f}: {'met' if total * PER <= target else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if docs/cost.md or README.md's figures differ from their rendering"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="render docs/cost.md and README.md's figures from the committed measurement",
    )
    args = parser.parse_args(argv)
    prices = load_prices()
    if args.check or args.render:
        results = json.loads(RESULTS.read_text())
    else:
        results = run_measurement()
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    text = render(results, prices)
    readme = _with_readme_figures(README.read_text(), render_readme_figures(results, prices))
    if args.check:
        stale = [
            name
            for name, path, want in (("docs/cost.md", DOC, text), ("README.md", README, readme))
            if not path.exists() or path.read_text() != want
        ]
        if stale:
            print(f"{' and '.join(stale)} out of date: run `python benchmarks/cost.py --render`", file=sys.stderr)
            return 1
        print("docs/cost.md and README.md's figures match benchmarks/results/cost.json and benchmarks/prices.json")
        return 0
    DOC.write_text(text)
    README.write_text(readme)
    print_tables(results, prices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
