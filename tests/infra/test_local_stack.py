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
    import json, sys
    from pathlib import Path
    from infrastructure.local.stack import LocalStack

    state_dir, fresh = Path(sys.argv[1]), sys.argv[2] == "fresh"
    with LocalStack(port=0, moto_port=0, seed=False, state_dir=state_dir, fresh=fresh) as stack:
        ddb, table = stack.client("dynamodb"), stack.resource("ApprovalsTable")
        if fresh:
            ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}, "sk": {"S": "kept"}})
            stack.client("sesv2").send_email(
                FromEmailAddress="no-reply@prm.example.com",
                Destination={"ToAddresses": ["kept@example.com"]},
                Content={"Simple": {"Subject": {"Data": "kept"}, "Body": {"Text": {"Data": "kept"}}}},
            )
        item = ddb.get_item(TableName=table, Key={"pk": {"S": "kept"}, "sk": {"S": "kept"}}).get("Item")
        print(json.dumps({"restored": stack.restored, "item": item, "mail": stack.mail(), "pool": stack.resource("PartnerUserPool")}))
    """
)


def _run(state_dir: Path, mode: str) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-c", RUN, str(state_dir), mode],
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
    first = _run(tmp_path, "fresh")
    assert first["restored"] is False
    assert (tmp_path / "snapshot.pkl").exists()
    second = _run(tmp_path, "restore")
    assert second["restored"] is True
    assert second["item"] == {"pk": {"S": "kept"}, "sk": {"S": "kept"}}
    assert second["pool"] == first["pool"]
    assert [(m["subject"], m["timestamp"]) for m in second["mail"]] == [
        (m["subject"], m["timestamp"]) for m in first["mail"]
    ]
    again = _run(tmp_path, "fresh")
    assert again["restored"] is False
    assert again["mail"][0]["timestamp"] != first["mail"][0]["timestamp"]
