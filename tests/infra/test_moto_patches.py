"""moto's internals are touched in one module, for one moto version, and any other version is refused loudly."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from infrastructure.local import moto_patches
from tests.support.in_process_aws import monkeypatch_in_process_aws
from tests.support.workflows import ask_and_wait
from tools import lock

ROOT = Path(__file__).resolve().parents[2]
# moto's public API: anything else is an internal that belongs in infrastructure/local/moto_patches.py.
PUBLIC = {"moto": {"mock_aws"}, "moto.server": {"ThreadedMotoServer"}}
# The stack, the tooling and the fixtures every test relies on (tests of the patches themselves may reach in).
CHECKED = ["infrastructure", "tools", "tests/support", "tests/conftest.py", "tests/integration/conftest.py"]


@pytest.fixture
def other_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """moto 5.3.0 installed, as far as moto_patches can tell; yields the patches that ran."""
    ran: list[str] = []
    monkeypatch.setattr(moto_patches, "installed_version", lambda: "5.3.0")
    for name in (
        "_serialise_dynamodb",
        "_track_instances_weakly",
        "_run_programs_inline",
        "_query_lists_only_what_it_reads",
    ):
        monkeypatch.setattr(moto_patches, name, lambda name=name: ran.append(name))
    moto_patches._require_checked.cache_clear()
    yield ran
    moto_patches._require_checked.cache_clear()


def test_apply_refuses_another_moto_version_before_patching_anything(other_moto: list[str]) -> None:
    with pytest.raises(moto_patches.MotoVersionError) as refused:
        moto_patches.apply()
    assert "written for moto 5.2.5" in str(refused.value)
    assert "moto 5.3.0 is installed" in str(refused.value)
    assert other_moto == []


def test_the_opt_in_shortcuts_refuse_another_moto_version_too(other_moto: list[str]) -> None:
    with pytest.raises(moto_patches.MotoVersionError, match=re.escape("moto 5.3.0")):
        moto_patches.apply_query_shortcuts()
    with pytest.raises(moto_patches.MotoVersionError, match=re.escape("moto 5.3.0")):
        moto_patches.item_size_unchecked().__enter__()
    assert other_moto == []


def test_backend_reads_refuse_another_moto_version_too(other_moto: list[str]) -> None:
    with pytest.raises(moto_patches.MotoVersionError, match=re.escape("moto 5.3.0")):
        moto_patches.user_pools()
    with pytest.raises(moto_patches.MotoVersionError, match=re.escape("moto 5.3.0")):
        moto_patches.stream_shard("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x")


def test_apply_patches_on_the_version_it_was_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    for name in ("_serialise_dynamodb", "_track_instances_weakly", "_run_programs_inline"):
        monkeypatch.setattr(moto_patches, name, lambda name=name: ran.append(name))
    moto_patches.apply()
    assert ran == ["_serialise_dynamodb", "_track_instances_weakly", "_run_programs_inline"]


def test_the_patches_are_written_for_the_locked_moto() -> None:
    locked = lock.read_lock()["moto"].version
    assert locked == moto_patches.WRITTEN_FOR, (
        f"the lock pins moto {locked}: re-check infrastructure/local/moto_patches.py against it, then set WRITTEN_FOR"
    )
    assert moto_patches.installed_version() == locked


def _moto_imports(path: Path) -> Iterator[tuple[int, str, set[str]]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "moto" or alias.name.startswith("moto."):
                    yield node.lineno, alias.name, {"*"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "moto":
            yield node.lineno, str(node.module), {alias.name for alias in node.names}


def test_only_moto_patches_reaches_into_moto() -> None:
    paths = [
        p for entry in CHECKED for p in ([ROOT / entry] if entry.endswith(".py") else (ROOT / entry).rglob("*.py"))
    ]
    assert len(paths) > 20
    problems = []
    for path in paths:
        if path == ROOT / "infrastructure" / "local" / "moto_patches.py":
            continue
        for line, module, names in _moto_imports(path):
            if not names <= PUBLIC.get(module, set()):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {sorted(names)} from {module}")
    assert not problems, "moto internals outside infrastructure/local/moto_patches.py:\n" + "\n".join(problems)


# ------------------------------------------------------------------------------------------ opt-in shortcuts


@pytest.fixture
def gsi_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto table with a sort key and two GSIs (one sparse, one without a sort key), items written out of order."""
    from moto.dynamodb.models.table import Table as MotoTable

    monkeypatch_in_process_aws(monkeypatch)
    # The shortcuts are process-wide: put moto's Query back after the test.
    monkeypatch.setattr(MotoTable, "query", MotoTable.query)
    monkeypatch.setattr(MotoTable, "_prm_query_shortcuts", False, raising=False)
    with mock_aws():
        ddb = boto3.client("dynamodb")
        attributes = [("pk", "S"), ("sk", "S"), ("gpk", "S"), ("gsk", "N"), ("tag", "S")]
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in attributes],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_g",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "by_tag",
                    "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in (7, 3, 11, 0, 9, 4, 1, 10, 6, 2, 8, 5) * 2:  # 12 keys per partition, each written twice
            for pk in ("b", "a", "c"):
                item = {"pk": {"S": pk}, "sk": {"S": f"S#{n:02d}"}, "tag": {"S": f"t{n % 2}"}}
                if n % 3:  # a sparse index: only two of every three items, with repeated index sort keys
                    item |= {"gpk": {"S": f"g{n % 2}"}, "gsk": {"N": str(n // 4)}}
                ddb.put_item(TableName="t", Item=item)
        yield ddb


GSI = {"IndexName": "by_g", "KeyConditionExpression": "gpk = :g", "ExpressionAttributeValues": {":g": {"S": "g1"}}}


def _queries() -> list[dict[str, Any]]:
    def on(pk: str) -> dict[str, Any]:
        return {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}}

    tag = {
        "IndexName": "by_tag",
        "KeyConditionExpression": "tag = :t",
        "ExpressionAttributeValues": {":t": {"S": "t0"}},
    }
    prefix = {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "b"}, ":s": {"S": "S#0"}},
    }
    between = {
        "IndexName": "by_g",
        "KeyConditionExpression": "gpk = :g AND gsk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {":g": {"S": "g0"}, ":lo": {"N": "1"}, ":hi": {"N": "2"}},
    }
    found = []
    for query in (on("a"), on("c"), on("missing"), prefix, GSI, tag, between):
        for forward in (True, False):
            for limit in (None, 1, 5):
                found.append(query | {"ScanIndexForward": forward} | ({"Limit": limit} if limit else {}))
    return found


def _pages(ddb: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        page = ddb.query(TableName="t", **query, **start)
        pages.append({key: page.get(key) for key in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in page:
            return pages
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_the_query_shortcuts_change_no_answer(gsi_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table as MotoTable

    listed: list[int] = []
    all_items = MotoTable.all_items
    monkeypatch.setattr(MotoTable, "all_items", lambda self: listed.append(1) or all_items(self))
    queries = _queries()
    with moto_patches.plain_query():  # moto's own Query, even where a local stack already installed the shortcuts
        plain = [_pages(gsi_table, query) for query in queries]
    assert len(listed) >= len(queries)  # moto listed the whole table for every page
    moto_patches.apply_query_shortcuts()
    moto_patches.apply_query_shortcuts()  # idempotent
    listed.clear()
    shortcut = [_pages(gsi_table, query) for query in queries]
    assert listed == []  # the shortcuts ran: moto's full-table listing did not
    with moto_patches.plain_query():
        again = [_pages(gsi_table, query) for query in queries]
    assert listed  # and plain_query() turns them off
    for query, expected, got, plain_again in zip(queries, plain, shortcut, again, strict=True):
        assert got == expected, query
        assert plain_again == expected, query
    # Not vacuous: pagination, both orders, and the sparse index's order by gsk and then the table's key.
    assert sum(len(pages) > 1 for pages in plain) >= 10
    gsi_items = [item for page in plain[queries.index(GSI | {"ScanIndexForward": True})] for item in page["Items"]]
    assert [(i["gsk"]["N"], i["pk"]["S"], i["sk"]["S"]) for i in gsi_items] == sorted(
        (i["gsk"]["N"], i["pk"]["S"], i["sk"]["S"]) for i in gsi_items
    )
    assert len(gsi_items) == 12  # g1: n in 1, 5, 7, 11 across three partitions


def test_item_size_unchecked_stores_the_same_item_and_restores_the_check(gsi_table: Any) -> None:
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    checked = LimitedSizeDict.__setitem__
    item = {"pk": {"S": "z"}, "sk": {"S": "1"}, "data": {"M": {"n": {"N": "1"}, "s": {"SS": ["x", "y"]}}}}
    with moto_patches.item_size_unchecked():
        gsi_table.put_item(TableName="t", Item=item)
    assert LimitedSizeDict.__setitem__ is checked
    stored = gsi_table.get_item(TableName="t", Key={"pk": {"S": "z"}, "sk": {"S": "1"}})["Item"]
    gsi_table.put_item(TableName="t", Item=item | {"sk": {"S": "2"}})
    assert gsi_table.get_item(TableName="t", Key={"pk": {"S": "z"}, "sk": {"S": "2"}})["Item"] == stored | {
        "sk": {"S": "2"}
    }
    with pytest.raises(gsi_table.exceptions.ClientError, match="Item size has exceeded"):
        gsi_table.put_item(TableName="t", Item={"pk": {"S": "z"}, "sk": {"S": "3"}, "big": {"S": "x" * 410_000}})


# ------------------------------------------------------------------------------------------ Cognito RevokeToken


def test_revoke_token_ends_one_session_as_cognito_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal's sign-out revokes its refresh token; moto alone answers RevokeToken "not yet implemented"."""
    import botocore.exceptions

    monkeypatch_in_process_aws(monkeypatch)
    moto_patches.apply()
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    with mock_aws():
        cognito = boto3.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        portal, other = (
            cognito.create_user_pool_client(UserPoolId=pool, ClientName=name, ExplicitAuthFlows=flows)[
                "UserPoolClient"
            ]["ClientId"]
            for name in ("portal", "other")
        )
        cognito.admin_create_user(UserPoolId=pool, Username="ada@acme.example", MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username="ada@acme.example", Password="Perm-Pass-1234!", Permanent=True
        )

        def sign_in() -> str:
            answer = cognito.initiate_auth(
                ClientId=portal,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "ada@acme.example", "PASSWORD": "Perm-Pass-1234!"},
            )
            return str(answer["AuthenticationResult"]["RefreshToken"])

        def refresh(token: str) -> str:
            answer = cognito.initiate_auth(
                ClientId=portal, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
            )
            return str(answer["AuthenticationResult"]["IdToken"])

        laptop, phone = sign_in(), sign_in()
        with pytest.raises(botocore.exceptions.ClientError, match="UnauthorizedException"):
            cognito.revoke_token(Token=laptop, ClientId=other)  # only the client it was issued to may revoke it
        assert refresh(laptop)
        cognito.revoke_token(Token=laptop, ClientId=portal)
        with pytest.raises(botocore.exceptions.ClientError, match="NotAuthorizedException"):
            refresh(laptop)
        assert refresh(phone)  # the user's other session goes on
        cognito.revoke_token(Token=laptop, ClientId=portal)  # again, or an unknown token: 200, telling nothing
        cognito.revoke_token(Token="not-a-token", ClientId=portal)
        with pytest.raises(botocore.exceptions.ClientError, match="ResourceNotFoundException"):
            cognito.revoke_token(Token=phone, ClientId="no-such-client")
        assert refresh(phone)
        # A client without token revocation refuses, as AWS does; one with a secret needs it.
        plain = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="plain", ExplicitAuthFlows=flows, EnableTokenRevocation=False
        )["UserPoolClient"]["ClientId"]
        with pytest.raises(botocore.exceptions.ClientError, match="UnsupportedOperationException"):
            cognito.revoke_token(Token=phone, ClientId=plain)
        secret = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="server", ExplicitAuthFlows=flows, GenerateSecret=True
        )["UserPoolClient"]
        with pytest.raises(botocore.exceptions.ClientError, match="NotAuthorizedException"):
            cognito.revoke_token(Token=phone, ClientId=secret["ClientId"], ClientSecret="wrong-secret-wrong-secret")
        cognito.revoke_token(Token="unknown", ClientId=secret["ClientId"], ClientSecret=secret["ClientSecret"])
        assert refresh(phone)


def test_tokens_last_their_app_clients_validity_in_its_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto alone signs every ID and access token for an hour, whatever the app client says."""
    monkeypatch_in_process_aws(monkeypatch)
    moto_patches.apply()
    with mock_aws():
        cognito = boto3.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        cognito.admin_create_user(UserPoolId=pool, Username="ada@acme.example", MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username="ada@acme.example", Password="Perm-Pass-1234!", Permanent=True
        )

        def lifetimes(**validity: Any) -> tuple[int, int, int]:
            client = cognito.create_user_pool_client(
                UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"], **validity
            )["UserPoolClient"]["ClientId"]
            answer = cognito.initiate_auth(
                ClientId=client,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "ada@acme.example", "PASSWORD": "Perm-Pass-1234!"},
            )["AuthenticationResult"]
            identity, access = (
                jwt.decode(answer[name], options={"verify_signature": False}) for name in ("IdToken", "AccessToken")
            )
            return identity["exp"] - identity["iat"], access["exp"] - access["iat"], answer["ExpiresIn"]

        assert lifetimes() == (3600, 3600, 3600)  # Cognito's defaults
        units = {"IdToken": "seconds", "AccessToken": "hours"}
        assert lifetimes(IdTokenValidity=900, AccessTokenValidity=2, TokenValidityUnits=units) == (900, 7200, 7200)
        assert lifetimes(IdTokenValidity=1, AccessTokenValidity=1, TokenValidityUnits={"IdToken": "days"}) == (
            86400,
            3600,
            3600,
        )
    template_client = {"IdTokenValidity": 5, "TokenValidityUnits": {"IdToken": "minutes"}}
    assert moto_patches.token_validity_seconds(template_client, "IdToken") == 300


def test_a_heartbeat_says_whether_a_task_still_waits_on_its_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto alone refuses (InvalidToken) every token of a callback Task without HeartbeatSeconds and accepts a stopped
    execution's; approvals asks before a pending approval takes a new token."""
    import json
    import time

    monkeypatch_in_process_aws(monkeypatch)
    moto_patches.apply()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
        queue = sqs.create_queue(QueueName="asks")["QueueUrl"]
        definition = ask_and_wait({"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, TimeoutSeconds=3)
        machine = sfn.create_state_machine(
            name="asks", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        deadline, messages = time.monotonic() + 5, []
        while not messages and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", [])
        token = json.loads(messages[0]["Body"])["token"]

        sfn.send_task_heartbeat(taskToken=token)  # it waits: accepted
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_heartbeat(taskToken="no-such-token")
        sfn.stop_execution(executionArn=execution)
        with pytest.raises(sfn.exceptions.TaskTimedOut):
            sfn.send_task_heartbeat(taskToken=token)
