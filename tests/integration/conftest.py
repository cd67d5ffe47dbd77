"""Integration layer: each handler against in-process moto, with resources provisioned from template.yaml itself."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infrastructure.local import moto_patches
from infrastructure.local.provision import Provisioner
from infrastructure.local.template import Template, load_template
from shared.aws import reset_clients
from shared.principal import claimed_groups
from tests.support.in_process_aws import REGION, use_in_process_aws
from tests.support.lambda_events import LambdaContext, api_event, sqs_event, stream_event

ROOT = Path(__file__).resolve().parents[2]
TEST_PARAMETERS = {
    "ApprovalReminderSeconds": "2",
    "ApprovalEscalationSeconds": "2",
    "ApprovalExpirySeconds": "2",
    "PortalUrl": "http://portal.test",
    "DealProtectionSeconds": "12",
    "DealReminderOffsetsSeconds": "5,2",
    "DealExtensionSeconds": "30",
    "MdfRequestLeadDays": "0",
    "MdfExpiryWarningOffsetsSeconds": "4",
    "MdfClaimReminderOffsetsSeconds": "2",
    # Reminders 60 and 30 days and 6 seconds before an award expires (the expiry test waits for the last one).
    "CertificationReminderOffsetsSeconds": "5184000,2592000,6",
    # A partner keeps a tier it no longer meets 8 seconds, warned 5 and 3 seconds before the end (the template's
    # defaults are 90 days, and 30 and 7 days): test_tiers.py waits for the real timers.
    "TierGraceSeconds": "8",
    "TierGraceWarningOffsetsSeconds": "5,3",
}


class Stack:
    """The template's resources in moto, and the means to run one function's handler as Lambda would."""

    def __init__(self, template: Template, provisioner: Provisioner) -> None:
        self.template = template
        self.provisioner = provisioner
        self._stream_positions: dict[str, str] = {}

    def ref(self, logical_id: str) -> Any:
        return self.template.values[logical_id].ref

    def attr(self, logical_id: str, name: str) -> Any:
        return self.template.values[logical_id].attrs[name]

    def env(self, function_id: str) -> dict[str, str]:
        props = self.provisioner.functions[function_id]
        return {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}

    def load(self, function_id: str, module: str, **overrides: str) -> ModuleType:
        """Import `module` fresh with exactly the function's template environment (settings validate then), with
        `overrides` where a test needs other values of its variables."""
        saved = dict(os.environ)
        try:
            os.environ.update(self.env(function_id) | overrides)
            os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function_id
            # the module and its `<module>_*` siblings (a Chalice blueprint registers its routes on one app only)
            for name in [m for m in sys.modules if m == module or m.startswith(f"{module}_")]:
                sys.modules.pop(name, None)
            return importlib.import_module(module)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def load_context(
        self, prefix: str, package: str, **consumer_overrides: str
    ) -> tuple[ModuleType, ModuleType, ModuleType]:
        """A context's API, queue consumer and outbox functions (`<prefix>ApiFunction` ...), each imported fresh."""
        return (
            self.load(f"{prefix}ApiFunction", f"{package}.api"),
            self.load(f"{prefix}EventsFunction", f"{package}.consumers", **consumer_overrides),
            self.load(f"{prefix}OutboxFunction", f"{package}.outbox"),
        )

    # ------------------------------------------------------------- delivery helpers
    def receive(
        self, queue_id: str, *, wait: float = 0, max_messages: int = 10, visibility: int | None = None
    ) -> list[dict[str, Any]]:
        """A batch from a queue, hidden for `visibility` seconds (default: the queue's own timeout)."""
        sqs = boto3.client("sqs")
        hidden = {} if visibility is None else {"VisibilityTimeout": visibility}
        answer = sqs.receive_message(
            QueueUrl=self.ref(queue_id),
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=int(wait),
            AttributeNames=["All"],
            **hidden,
        )
        return answer.get("Messages", [])

    def deliver(self, queue_id: str, handler: Any, *, wait: float = 0) -> dict[str, Any]:
        """Receive a batch from a queue, hand it to `handler` as an SQS event, delete what succeeded."""
        return self.hand_over(queue_id, handler, self.receive(queue_id, wait=wait))

    def hand_over(self, queue_id: str, handler: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Hand received messages to `handler` as an SQS event; delete what succeeded, the rest visible again soon."""
        if not messages:
            return {"batchItemFailures": [], "delivered": 0}
        try:
            result = handler(sqs_event(messages, self.attr(queue_id, "Arn")), LambdaContext())
        except Exception:
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        sqs = boto3.client("sqs")
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=self.ref(queue_id), ReceiptHandle=message["ReceiptHandle"])
            else:  # back soon, as the local stack's poller does (the queue's own timeout is minutes)
                sqs.change_message_visibility(
                    QueueUrl=self.ref(queue_id), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=1
                )
        return result | {"delivered": len(messages)}

    def fire_timers(self) -> int:
        """Deliver the due one-time Scheduler schedules (timers) to their queues, as the local stack does."""
        from infrastructure.local.scheduler import ScheduleRunner

        def queue_url(arn: str) -> str:
            return str(boto3.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"])

        return ScheduleRunner(sqs=boto3.client("sqs"), queue_url=queue_url).fire_due()

    def stream_records(self, table_id: str) -> list[dict[str, Any]]:
        """Stream records written since the last call for this table."""
        streams = boto3.client("dynamodbstreams")
        arn = self.attr(table_id, "StreamArn")
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            key = f"{arn}/{shard['ShardId']}"
            if key in self._stream_positions:
                iterator = streams.get_shard_iterator(
                    StreamArn=arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self._stream_positions[key],
                )["ShardIterator"]
            else:
                iterator = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            batch = streams.get_records(ShardIterator=iterator)["Records"]
            if batch:
                self._stream_positions[key] = batch[-1]["dynamodb"]["SequenceNumber"]
            records += batch
        return records

    def pump_stream(self, table_id: str, handler: Any) -> dict[str, Any]:
        records = self.stream_records(table_id)
        if not records:
            return {"batchItemFailures": []}
        return handler(stream_event(records, self.attr(table_id, "StreamArn")), LambdaContext())  # type: ignore[no-any-return]

    def flush(
        self, table_id: str, outbox: Any, queues: dict[str, Any], *, until: Any = None, timeout: float = 20
    ) -> None:
        """Publish a context's outbox and deliver its queues to its consumers until `until()` holds (or, without
        `until`, until nothing moves)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump_stream(table_id, outbox.handler)
            self.fire_timers()
            moved = sum(self.deliver(queue_id, handler)["delivered"] for queue_id, handler in queues.items())
            if until is None and not moved:
                return
            if until is not None and until():
                return
            if not moved:
                time.sleep(0.2)
        if until is not None:
            raise AssertionError("condition not met in time")

    def call(self, app: Any, *args: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        if kwargs.get("claims"):
            self.ensure_user(kwargs["claims"])
        response = app(api_event(*args, **kwargs), LambdaContext())
        body = response.get("body") or ""
        headers = response.get("headers") or {}
        parsed = json.loads(body) if headers.get("Content-Type", "").startswith("application/json") and body else body
        return response["statusCode"], parsed, headers

    def ensure_user(self, claims: dict[str, str]) -> None:
        """Make the pool hold the claims' user as they describe it: the API refuses a token whose user is not live."""
        pool_id, email = self.ref("PartnerUserPool"), claims["email"]
        pool = moto_patches.user_pool(pool_id, REGION)
        user = pool._get_user(email)
        if user is None:
            cognito = boto3.client("cognito-idp")
            cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=email,
                MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": email}],
            )
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=email, Password="Integration-Test-42", Permanent=True
            )
            user = pool._get_user(email)
        user.id = claims["sub"]  # synthetic claims name their own sub; the pool cannot be asked to choose one
        moto_patches.mark_signed_in(user)  # whoever holds a token has signed in
        user.update_attributes([{"Name": "sub", "Value": claims["sub"]}])
        if claims.get("custom:partner_id"):
            user.update_attributes([{"Name": "custom:partner_id", "Value": claims["custom:partner_id"]}])
        elif "custom:partner_id" in user.attribute_lookup:
            user.delete_attributes(["custom:partner_id"])
        # Exactly the claimed groups (the API refuses a token claiming a group its user is no longer in).
        wanted = claimed_groups(claims.get("cognito:groups"))
        for group in list(user.groups):
            if group.group_name not in wanted:
                group.users.discard(user)
                user.groups.discard(group)
        for name in sorted(wanted - {group.group_name for group in user.groups}):
            if name not in pool.groups:
                boto3.client("cognito-idp").create_group(UserPoolId=pool_id, GroupName=name)
            group = pool.groups[name]
            group.users.add(user)
            user.groups.add(group)

    def accept_projected_agreement(self, table_id: str, queue_id: str, claims: dict[str, str]) -> bool:
        """Queue the claims' user's acceptance of the agreement version a context has projected, if it has one
        (deals and MDF refuse partner users who have not accepted it, as onboarding does)."""
        from contracts.onboarding_agreement_gate import PK
        from shared.dynamo import Table
        from tests.support.factories import agreement_accepted

        current = Table(self.ref(table_id)).get(PK, "CURRENT")
        if current is None:
            return False
        envelope = agreement_accepted(claims, current["version"])
        boto3.client("sqs").send_message(QueueUrl=self.ref(queue_id), MessageBody=json.dumps(envelope))
        return True

    def items(self, table_id: str) -> list[dict[str, Any]]:
        """Every item of a table (tests only: request paths never scan)."""
        from shared.dynamo import from_item

        pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=self.ref(table_id))
        return [from_item(i) for page in pages for i in page["Items"]]

    def outbox_events(self, table_id: str, detail_type: str, **detail: Any) -> list[dict[str, Any]]:
        """The events of `detail_type` in a table's outbox whose detail has the given field values."""
        found = []
        for item in self.items(table_id):
            if item.get("entity") == "outbox" and item["detail_type"] == detail_type:
                event = json.loads(item["detail"])
                if all(event.get(k) == v for k, v in detail.items()):
                    found.append(event)
        return found

    def sent_mail(self) -> list[Any]:
        return list(moto_patches.ses_backend(REGION).sent_messages)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    from infrastructure.local.stack import running_stacks

    # moto's backends are process-wide: a local stack left running by an earlier test in this worker would poll
    # these tests' queues and fire their timer schedules (an extra delivery, a lost message).
    assert not running_stacks(), "a local stack is still running in this process; stop it before in-process moto tests"
    saved = dict(os.environ)
    use_in_process_aws("test")
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            moto_patches.apply()
            reset_clients()
            template = Template(load_template(ROOT / "template.yaml"), TEST_PARAMETERS)
            provisioner = Provisioner(template, boto3.client, ROOT)
            provisioner.provision()
            yield Stack(template, provisioner)
            reset_clients()
    finally:
        os.environ.clear()
        os.environ.update(saved)
