"""The local stack end to end: it provisions template.yaml into moto, serves config, mail and the API, and keeps data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infrastructure.local.stack import LocalStack

REPO = Path(__file__).resolve().parents[2]
# Its own Stage keeps this stack's resources apart if the session's stack runs in the same process (moto's state is
# per process).
PARAMETERS = {"Stage": "itest"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(
        port=0, moto_port=0, seed=False, parameters=PARAMETERS, state_dir=tmp_path_factory.mktemp("stack")
    ) as started:
        yield started


def test_template_resources_exist_in_moto(stack: LocalStack) -> None:
    table = stack.client("dynamodb").describe_table(TableName=stack.resource("OnboardingTable"))["Table"]
    assert table["TableName"] == "prm-itest-onboarding"
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert stack.attr("OnboardingTable", "StreamArn") == table["LatestStreamArn"]

    queue = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.resource("OnboardingEventsQueue"), AttributeNames=["All"]
    )["Attributes"]
    declared = stack.template.properties("OnboardingEventsQueue")["VisibilityTimeout"]
    assert queue["VisibilityTimeout"] == str(declared)
    assert json.loads(queue["RedrivePolicy"])["deadLetterTargetArn"] == stack.attr("OnboardingEventsDLQ", "Arn")

    machine = stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.resource("OnboardingApprovalStateMachine")
    )
    assert machine["name"] == "prm-itest-onboarding-approval"
    definition = machine["definition"]
    assert "${" not in definition  # every DefinitionSubstitution was applied
    assert stack.resource("ApprovalRequestsQueue") in definition

    pool = stack.client("cognito-idp").describe_user_pool(UserPoolId=stack.resource("PartnerUserPool"))["UserPool"]
    assert pool["Name"] == "prm-itest-users"
    assert "custom:partner_id" in {attribute["Name"] for attribute in pool["SchemaAttributes"]}
    groups = stack.client("cognito-idp").list_groups(UserPoolId=pool["Id"])["Groups"]
    assert {"partner-admin", "partner-user", "vendor-admin"} <= {group["GroupName"] for group in groups}

    secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.resource("ApprovalLinkSecret"))
    assert len(secret["SecretString"]) == 64

    rule = stack.client("events").list_targets_by_rule(
        Rule=stack.resource("OnboardingEventsRule"), EventBusName=stack.resource("PrmEventBus")
    )
    assert [target["Arn"] for target in rule["Targets"]] == [stack.attr("OnboardingEventsQueue", "Arn")]


def test_config_json_points_the_portal_at_the_local_api_and_cognito(stack: LocalStack) -> None:
    answer = requests.get(f"{stack.base_url}/config.json", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {
        "apiBaseUrl": stack.api_url,
        "region": "us-east-1",
        "programmeName": "Example Vendor Partner Network",  # the template's ProgrammeName (its default here)
        "cognito": {
            "endpoint": stack.moto_url,
            "userPoolId": stack.resource("PartnerUserPool"),
            "clientId": stack.resource("PortalUserPoolClient"),
        },
    }


def test_mail_sent_through_ses_shows_up_in_the_viewer(stack: LocalStack) -> None:
    recipient = f"someone-{uuid.uuid4().hex[:6]}@example.com"
    stack.client("sesv2").send_email(
        FromEmailAddress="no-reply@prm.example.com",
        Destination={"ToAddresses": [recipient]},
        Content={
            "Simple": {
                "Subject": {"Data": "Approve me"},
                "Body": {"Html": {"Data": '<p><a href="http://x.example/approve">Approve</a></p>'}},
            }
        },
    )
    answer = requests.get(f"{stack.base_url}/_mail/api/messages", timeout=10)
    assert answer.status_code == 200
    newest = answer.json()[0]
    assert newest["destinations"] == [recipient]
    assert newest["subject"] == "Approve me"
    assert newest["source"] == "no-reply@prm.example.com"
    assert newest["timestamp"].endswith("Z")
    assert stack.mail()[0]["id"] == newest["id"]
    listing = requests.get(f"{stack.base_url}/_mail/", timeout=10)
    assert recipient in listing.text
    body = requests.get(f"{stack.base_url}/_mail/{newest['id']}/body", timeout=10).text
    assert '<base target="_top">' in body
    assert 'href="http://x.example/approve"' in body


def test_the_api_enforces_the_templates_cognito_authorizer(stack: LocalStack) -> None:
    unauthenticated = requests.get(f"{stack.api_url}/me", timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "unauthorized"
    assert requests.get(f"{stack.api_url}/no-such-route", timeout=10).status_code == 404
    preflight = requests.options(f"{stack.api_url}/me", timeout=10)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == stack.base_url

    cognito, pool_id = stack.client("cognito-idp"), stack.resource("PartnerUserPool")
    email = f"user-{uuid.uuid4().hex[:6]}@example.com"
    cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password="Long-Password-42", Permanent=True)
    tokens = cognito.initiate_auth(
        ClientId=stack.resource("PortalUserPoolClient"),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Long-Password-42"},
    )["AuthenticationResult"]
    signed_in = requests.get(
        f"{stack.api_url}/me", headers={"Authorization": f"Bearer {tokens['IdToken']}"}, timeout=30
    )
    assert signed_in.status_code != 401  # the gateway let it through to the function
    with_access_token = requests.get(
        f"{stack.api_url}/me", headers={"Authorization": f"Bearer {tokens['AccessToken']}"}, timeout=30
    )
    assert with_access_token.status_code == 401


def test_the_portal_is_served(stack: LocalStack) -> None:
    answer = requests.get(f"{stack.base_url}/", timeout=10)
    assert answer.status_code == 200
    assert "text/html" in answer.headers["Content-Type"]
    assert answer.content == (REPO / "portal" / "index.html").read_bytes()
    script = requests.get(f"{stack.base_url}/js/app.js", timeout=10)
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert script.content == (REPO / "portal" / "js" / "app.js").read_bytes()


RUN = textwrap.dedent(
    """
    import html, json, re, sys, time
    from pathlib import Path
    import requests
    from infrastructure.local.stack import LocalStack

    state_dir, fresh = Path(sys.argv[1]), sys.argv[2] == "fresh"
    approval = sys.argv[3] if len(sys.argv) > 3 else None  # an approval workflow to start (fresh) or decide (restore)
    with LocalStack(port=0, moto_port=0, seed=False, state_dir=state_dir, fresh=fresh) as stack:
        ddb, table = stack.client("dynamodb"), stack.resource("ApprovalsTable")
        sfn, machine = stack.client("stepfunctions"), stack.resource("OnboardingApprovalStateMachine")
        key = {"pk": {"S": f"APPROVAL#onboarding-{approval}"}, "sk": {"S": "APPROVAL"}}

        def approval_item(version):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                item = ddb.get_item(TableName=table, Key=key).get("Item")
                if item and item.get("notified", {}).get("BOOL") and int(item["token_version"]["N"]) == version:
                    return item
                time.sleep(0.2)
            raise TimeoutError(f"approval never reached token version {version}")

        if fresh:
            ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}, "sk": {"S": "kept"}})
            stack.client("sesv2").send_email(
                FromEmailAddress="no-reply@prm.example.com",
                Destination={"ToAddresses": ["kept@example.com"]},
                Content={"Simple": {"Subject": {"Data": "kept"}, "Body": {"Text": {"Data": "kept"}}}},
            )
        if fresh and approval:  # left waiting for its approver when the stack stops
            workflow_input = {
                "approval_id": f"onboarding-{approval}", "application_id": approval, "subject": "Partner application",
                "summary": [{"label": "Company", "value": "Acme"}],
                "approvers": {"initial": ["first@example.com"], "escalation": ["first@example.com"]},
                "timeouts": {"reminder_seconds": 3600, "escalation_seconds": 3600, "expiry_seconds": 3600},
            }
            sfn.start_execution(stateMachineArn=machine, name=approval, input=json.dumps(workflow_input))
            approval_item(1)
        outcome = None
        if not fresh and approval:  # the stack re-ran the interrupted execution: its request swaps the token
            approval_item(2)
            time.sleep(1)  # time enough for a second email, had one been sent
            [mail] = [m for m in stack.mail() if f"onboarding-{approval}" in m["body"]]
            link = re.search(r"href='([^']+decision=approve[^']*)'", mail["body"]).group(1).replace("&amp;", "&")
            link = stack.api_url + link[link.index("/approvals/"):]  # this run's port
            page = requests.get(link, timeout=30).text
            form = {k: html.unescape(v) for k, v in re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page)}
            decided = requests.post(link.split("?", 1)[0], data=form | {"reason": "ok"}, timeout=30)
            arn = machine.replace(":stateMachine:", ":execution:") + ":" + approval
            deadline = time.monotonic() + 60
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.2)
            outcome = {"decided": decided.status_code, "execution": sfn.describe_execution(executionArn=arn)["status"]}
        item = ddb.get_item(TableName=table, Key={"pk": {"S": "kept"}, "sk": {"S": "kept"}}).get("Item")
        print(json.dumps({"restored": stack.restored, "item": item, "mail": stack.mail(), "pool": stack.resource("PartnerUserPool"), "approval": outcome}))
    """
)


def _run(state_dir: Path, mode: str, *approval: str) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-c", RUN, str(state_dir), mode, *approval],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def test_data_survives_a_restart_unless_fresh(tmp_path: Path) -> None:
    # Separate processes, because moto's state is per process (as it is for `make dev`).
    application = f"app_{uuid.uuid4().hex[:12]}"  # its approval workflow is waiting when the stack stops
    first = _run(tmp_path, "fresh", application)
    assert first["restored"] is False
    assert (tmp_path / "snapshot.pkl").exists()
    second = _run(tmp_path, "restore", application)
    assert second["restored"] is True
    assert second["item"] == {"pk": {"S": "kept"}, "sk": {"S": "kept"}}
    assert second["pool"] == first["pool"]
    # The interrupted workflow ran again from its start and asked again: its approver got no second email, and the
    # first email's link decided for the run that waits now.
    assert [(m["subject"], m["timestamp"]) for m in second["mail"]] == [
        (m["subject"], m["timestamp"]) for m in first["mail"]
    ]
    assert sum(m["subject"].startswith("Approval needed") for m in second["mail"]) == 1
    assert second["approval"] == {"decided": 200, "execution": "SUCCEEDED"}
    again = _run(tmp_path, "fresh")
    assert again["restored"] is False
    assert again["mail"][0]["timestamp"] != first["mail"][0]["timestamp"]
