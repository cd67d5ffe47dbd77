"""DynamoDB adapter helpers: item (de)serialisation, conditional writes and transactions with typed failures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from shared.aws import client


@dataclass
class ConditionFailed(Exception):
    """A conditional write lost: the item was not in the expected state. `reasons` has one code per transact item."""

    reasons: list[str]

    def failed_at(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


@cache
def _serializers() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    serializer, _ = _serializers()
    return {k: serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    _, deserializer = _serializers()
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def values(data: dict[str, Any]) -> dict[str, Any]:
    """Expression attribute values, serialised."""
    return to_item(data)


class Table:
    """One DynamoDB table reached by key and index only (no Scan anywhere)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def _client(self) -> Any:
        return client("dynamodb")

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        answer = self._client.get_item(
            TableName=self.name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent
        )
        item = answer.get("Item")
        return from_item(item) if item else None

    def query_all(self, pk: str, *, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        """Every item of one partition (all pages): for partitions the model keeps small, never a table's worth."""
        items, start = self.query(pk, sk_prefix=sk_prefix)
        while start:
            page, start = self.query(pk, sk_prefix=sk_prefix, start_key=start)
            items += page
        return items

    def get_many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Items by key, in one round trip per 100 keys (missing keys are left out)."""
        found: list[dict[str, Any]] = []
        for offset in range(0, len(keys), 100):
            pending: dict[str, Any] = {
                self.name: {
                    "Keys": [to_item({"pk": pk, "sk": sk}) for pk, sk in keys[offset : offset + 100]],
                    "ConsistentRead": True,
                }
            }
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                found += [from_item(i) for i in answer.get("Responses", {}).get(self.name, [])]
                pending = answer.get("UnprocessedKeys") or {}
        return found

    def query(
        self,
        pk: str,
        *,
        sk_prefix: str | None = None,
        limit: int | None = None,
        forward: bool = True,
        start_key: dict[str, Any] | None = None,
        index: str | None = None,
        key_names: tuple[str, str] = ("pk", "sk"),
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Items of one partition (optionally a sort-key prefix); returns the page and the key to continue from."""
        condition = "#pk = :pk" + (" AND begins_with(#sk, :prefix)" if sk_prefix else "")
        expression_values = {":pk": pk} | ({":prefix": sk_prefix} if sk_prefix else {})
        names = {"#pk": key_names[0]} | ({"#sk": key_names[1]} if sk_prefix else {})
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values(expression_values),
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = to_item(start_key)
        answer = self._client.query(**kwargs)
        last = answer.get("LastEvaluatedKey")
        return [from_item(i) for i in answer.get("Items", [])], (from_item(last) if last else None)

    def page(
        self,
        pk: str,
        *,
        limit: int,
        cursor: str | None,
        index: str | None = None,
        key_names: tuple[str, str] = ("pk", "sk"),
        sk_prefix: str | None = None,
        forward: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a partition for a client, newest first by default; the cursor is opaque and bound to `pk`."""
        from shared.paging import decode_cursor, encode_cursor

        names = {"pk", "sk", *key_names}
        start = decode_cursor(cursor, key_names=names, partition=(key_names[0], pk)) if cursor else None
        items, last = self.query(
            pk, sk_prefix=sk_prefix, limit=limit, forward=forward, start_key=start, index=index, key_names=key_names
        )
        return items, (encode_cursor(last) if last else None)

    def partner_page(
        self, partner_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a partner's records, newest first, optionally of one status: the `by-partner` index
        (`gsi1pk = PARTNER#<id>`) or the `by-partner-status` index (`gsi2pk = PARTNER#<id>#<status>`)."""
        index, key_name, key = (
            ("by-partner-status", "gsi2pk", f"PARTNER#{partner_id}#{status}")
            if status
            else ("by-partner", "gsi1pk", f"PARTNER#{partner_id}")
        )
        return self.page(
            key, index=index, key_names=(key_name, key_name.replace("pk", "sk")), limit=limit, cursor=cursor
        )

    def put_new(self, item: dict[str, Any]) -> None:
        """Create an item that must not exist yet."""
        try:
            self._client.put_item(
                TableName=self.name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise ConditionFailed(["ConditionalCheckFailed"]) from error

    def update(
        self,
        pk: str,
        sk: str,
        *,
        set_fields: dict[str, Any],
        condition: str,
        condition_values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Conditionally set fields; returns the new item. Raises ConditionFailed when the condition does not hold."""
        request = self.op_update(
            pk, sk, set_fields=set_fields, condition=condition, condition_values=condition_values, names=names
        )["Update"]
        try:
            answer = self._client.update_item(**request, ReturnValues="ALL_NEW")
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise ConditionFailed(["ConditionalCheckFailed"]) from error
        return from_item(answer["Attributes"])

    def transact(self, operations: list[dict[str, Any]]) -> None:
        """All-or-nothing write of several items (a state change and its outbox event travel together).

        One ClientRequestToken per call: if botocore retries the call after a timeout although the first attempt
        committed, DynamoDB answers the retry as the success it was (for 10 minutes) instead of failing its conditions
        against its own writes, which would turn a success into a conflict.
        """
        try:
            self._client.transact_write_items(TransactItems=operations, ClientRequestToken=uuid.uuid4().hex)
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            raise ConditionFailed(reasons) from error

    def put_newer(self, item: dict[str, Any], *, order: str, value: Any) -> bool:
        """Write `item` unless the stored one is as new or newer by its `order` attribute (a projection that events
        may reach twice or out of order); False when it was not newer. Through transact() for its retry token."""
        try:
            self.transact(
                [
                    self.op_put(
                        item,
                        condition=f"attribute_not_exists(pk) OR {order} < :order",
                        condition_values={":order": value},
                    )
                ]
            )
        except ConditionFailed:
            return False
        return True

    # --- builders for transact() -------------------------------------------------------------------
    def op_put(
        self,
        item: dict[str, Any],
        *,
        condition: str | None = "attribute_not_exists(pk)",
        condition_values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "Put": _conditioned({"TableName": self.name, "Item": to_item(item)}, condition, condition_values, names)
        }

    def op_update(
        self,
        pk: str,
        sk: str,
        *,
        set_fields: dict[str, Any],
        condition: str,
        condition_values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        expression, attr_names, attr_values = set_expression(set_fields)
        return {
            "Update": {
                "TableName": self.name,
                "Key": to_item({"pk": pk, "sk": sk}),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": attr_names | (names or {}),
                "ExpressionAttributeValues": values(attr_values | (condition_values or {})),
            }
        }

    def op_delete(
        self,
        pk: str,
        sk: str,
        *,
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        key = {"TableName": self.name, "Key": to_item({"pk": pk, "sk": sk})}
        return {"Delete": _conditioned(key, condition, condition_values, names)}

    def op_check(
        self,
        pk: str,
        sk: str,
        *,
        condition: str,
        condition_values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        key = {"TableName": self.name, "Key": to_item({"pk": pk, "sk": sk})}
        return {"ConditionCheck": _conditioned(key, condition, condition_values, names)}


def _conditioned(
    request: dict[str, Any],
    condition: str | None,
    condition_values: dict[str, Any] | None,
    names: dict[str, str] | None,
) -> dict[str, Any]:
    """A transact item's request with its optional condition, values and names."""
    if condition:
        request["ConditionExpression"] = condition
    if condition_values:
        request["ExpressionAttributeValues"] = values(condition_values)
    if names:
        request["ExpressionAttributeNames"] = names
    return request


def set_expression(fields: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`SET #f0 = :f0, ...` for the given fields; None values are REMOVEd."""
    sets, removes, names, vals = [], [], {}, {}
    for index, (name, value) in enumerate(fields.items()):
        names[f"#f{index}"] = name
        if value is None:
            removes.append(f"#f{index}")
        else:
            sets.append(f"#f{index} = :f{index}")
            vals[f":f{index}"] = value
    expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
    return expression.strip(), names, vals
