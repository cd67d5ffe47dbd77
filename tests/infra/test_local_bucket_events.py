"""The local stack provisions a bucket's EventBridge notifications as CloudFormation would: with
`NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled`, objects written to the bucket send "Object
Created" events to the default bus, where a rule without EventBusName (ContentUploadsRule) takes them to a queue."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from infrastructure.local.provision import Provisioner
from infrastructure.local.template import Template

ROOT = Path(__file__).resolve().parents[2]


def _template(name: str, enabled: bool) -> dict[str, Any]:
    bucket: dict[str, Any] = {"BucketName": name, "VersioningConfiguration": {"Status": "Enabled"}}
    if enabled:
        bucket["NotificationConfiguration"] = {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    return {
        "Resources": {
            "Uploads": {"Type": "AWS::S3::Bucket", "Properties": bucket},
            "UploadsQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}},
            "UploadsRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": name,
                    "EventPattern": {
                        "source": ["aws.s3"],
                        "detail-type": ["Object Created"],
                        "detail": {"bucket": {"name": [{"Ref": "Uploads"}]}},
                    },
                    "Targets": [{"Id": "uploads", "Arn": {"Fn::GetAtt": ["UploadsQueue", "Arn"]}}],
                },
            },
        }
    }


def _provision(enabled: bool) -> tuple[Any, str, str]:
    """A bucket, queue and rule of their own (an outer mock_aws of the worker may keep other tests' resources)."""
    name = f"uploads-{uuid.uuid4().hex[:12]}"
    template = Template(_template(name, enabled), {})
    Provisioner(template, boto3.client, ROOT).provision()
    return boto3.client("s3"), name, str(template.values["UploadsQueue"].ref)


def _messages(queue_url: str) -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_an_eventbridge_enabled_bucket_sends_object_created_to_the_default_bus_rule(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3, bucket, queue_url = _provision(enabled=True)
        put = s3.put_object(Bucket=bucket, Key="assets/a1/1/guide.pdf", Body=b"%PDF-1.4\n")
        events = _messages(queue_url)
        assert [e["detail-type"] for e in events] == ["Object Created"]
        detail = events[0]["detail"]
        assert detail["bucket"]["name"] == bucket
        assert detail["object"]["key"] == "assets/a1/1/guide.pdf"
        assert detail["object"]["version-id"] == put["VersionId"]


def test_a_bucket_without_the_setting_sends_nothing(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3, bucket, queue_url = _provision(enabled=False)
        s3.put_object(Bucket=bucket, Key="assets/a1/1/guide.pdf", Body=b"%PDF-1.4\n")
        assert _messages(queue_url) == []
