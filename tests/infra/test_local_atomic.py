"""The local DynamoDB is atomic as AWS's: concurrent conditional writes, and cancelled transactions leave no trace."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infrastructure.local import moto_patches
from tests.support.in_process_aws import monkeypatch_in_process_aws


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch_in_process_aws(monkeypatch)
    with mock_aws():
        moto_patches.apply()
        ddb = boto3.client("dynamodb")
        created = ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        yield ddb, created["TableDescription"]["LatestStreamArn"]
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"


def test_a_cancelled_transaction_publishes_nothing_and_loses_nothing(table: tuple[Any, str]) -> None:
    ddb, arn = table
    ddb.put_item(TableName="t", Item={"pk": {"S": "taken"}})
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]  # a reader holds its place
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "phantom"}}}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {"pk": {"S": "taken"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "phantom"}})
    ddb.put_item(TableName="t", Item={"pk": {"S": "real"}})
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["real"]


def test_only_one_of_many_concurrent_conditional_writes_wins(table: tuple[Any, str]) -> None:
    ddb, _ = table
    start, wins = threading.Barrier(16), []

    def claim(n: int) -> None:
        start.wait()
        try:
            ddb.put_item(
                TableName="t",
                Item={"pk": {"S": "prospect"}, "by": {"N": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            wins.append(n)
        except ddb.exceptions.ConditionalCheckFailedException:
            pass

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1


def test_a_transaction_copies_no_table_and_a_cancelled_one_restores_what_it_touched(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's rollback copied each whole table (items and stream history) per action, so every transaction cost more
    as the table grew; now only the touched items are remembered, and a cancelled transaction puts them back."""
    from moto.dynamodb.models.table import Table

    ddb, _ = table
    ddb.create_table(
        TableName="ranged",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="ranged", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})

    def no_copies(self: Any, memo: Any) -> Any:
        raise AssertionError("a transaction copied a whole table")

    monkeypatch.setattr(Table, "__deepcopy__", no_copies, raising=False)
    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "ranged", "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}}]
    )
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "ranged",
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
                {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {"pk": {"S": "never"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    items = ddb.scan(TableName="ranged")["Items"]
    assert sorted((i["pk"]["S"], i["sk"]["S"], i.get("n", {}).get("N")) for i in items) == [
        ("a", "1", "1"),
        ("a", "2", None),
    ]
    assert ddb.scan(TableName="t")["Items"] == []
