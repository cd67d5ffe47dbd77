"""What the item-counting benchmarks share (content_library, rewards_ledger, tier_evaluation, training_import): moto with
every template resource provisioned, a meter of the DynamoDB items the code's own client reads and writes, call by
call, and the bulk load of seeded items into a table.

Items read: GetItem's Item, Query's and Scan's ScannedCount, BatchGetItem's items. Items written: PutItem, UpdateItem,
DeleteItem, BatchWriteItem's requests, TransactWriteItems' Put/Update/Delete (a ConditionCheck writes nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from infrastructure.local import moto_patches
from infrastructure.local.provision import Provisioner
from infrastructure.local.template import Template, load_template
from shared.aws import client, reset_clients
from shared.dynamo import to_item
from tests.integration.conftest import TEST_PARAMETERS, Stack

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def provisioned_stack(*, workflows: bool = False) -> Iterator[Stack]:
    """In-process moto (the integration tests' Stack) with every resource of template.yaml, the moto patches and the
    Query shortcuts on (a Query reads its partition only, as DynamoDB does); `workflows` runs Step Functions
    executions. The caller has set the in-process AWS environment before importing boto3."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}) if workflows else mock_aws():
        moto_patches.apply_query_shortcuts()
        reset_clients()
        template = Template(load_template(ROOT / "template.yaml"), TEST_PARAMETERS)
        provisioner = Provisioner(template, boto3.client, ROOT)
        provisioner.provision()
        try:
            yield Stack(template, provisioner)
        finally:
            reset_clients()


@dataclass
class Meter:
    """Items read and written by a DynamoDB client since reset(), call by call (`operation[@index]`, read, written)."""

    calls: list[tuple[str, int, int]] = field(default_factory=list)
    _pending: list[tuple[str, int]] = field(default_factory=list)

    def attach(self, dynamodb: Any) -> None:
        dynamodb.meta.events.register("provide-client-params.dynamodb", self._start)
        dynamodb.meta.events.register("after-call.dynamodb", self._finish)

    def reset(self) -> None:
        self.calls, self._pending = [], []

    def _start(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name + (f"@{params['IndexName']}" if params.get("IndexName") else "")
        written = 0
        if model.name == "TransactWriteItems":
            written = sum(1 for op in params["TransactItems"] if "ConditionCheck" not in op)
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            written = 1
        elif model.name == "BatchWriteItem":
            written = sum(len(requests) for requests in params["RequestItems"].values())
        self._pending.append((name, written))

    def _finish(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name, written = self._pending.pop() if self._pending else (model.name, 0)
        if "Error" in parsed:
            self.calls.append((name + " (refused)", 0, 0))
            return
        read = 0
        if model.name == "GetItem":
            read = 1 if parsed.get("Item") else 0
        elif model.name in ("Query", "Scan"):
            read = int(parsed.get("ScannedCount", len(parsed.get("Items") or [])))
        elif model.name == "BatchGetItem":
            read = sum(len(found) for found in (parsed.get("Responses") or {}).values())
        self.calls.append((name, read, written))

    @property
    def items_read(self) -> int:
        return sum(read for _, read, _ in self.calls)

    @property
    def items_written(self) -> int:
        return sum(written for _, _, written in self.calls)


def load(table_name: str, items: list[dict[str, Any]]) -> None:
    """Seeded items into the table, 25 a BatchWriteItem (moto's item size check off: the seed's own items)."""
    dynamodb = client("dynamodb")
    with moto_patches.item_size_unchecked():
        for offset in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": to_item(item)}} for item in items[offset : offset + 25]]
            dynamodb.batch_write_item(RequestItems={table_name: batch})


def scans(calls: list[tuple[str, int, int]]) -> list[str]:
    """The Scan calls among measured calls (a request or event path must make none)."""
    return [name for name, _, _ in calls if name.startswith("Scan")]
