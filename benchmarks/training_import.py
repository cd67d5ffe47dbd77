"""Training CSV import: DynamoDB items read and written per row, and rows per chunk, for one import of 1,000 rows
(docs/training.md "Imports": one work message per chunk of at most `training.domain.imports.CHUNK_ROWS` rows).

A fresh in-process moto gets every resource of template.yaml through the Provisioner, with the integration tests'
parameters, and training's API and consumer handlers are imported with their functions' template environment (as in
tests/integration/test_training.py, whose setup helpers it uses). A partner with 20 partner users, a certification of
two courses, then a file of ROWS rows: mostly distinct passes of those users (they earn and renew the certification
on the way), and every twentieth row each an unknown learner, an invalid row and a repeat of an earlier row. The file
is uploaded and submitted through the API; then the work queue is handed to the consumer's handler one message at a
time (a Lambda context with 20 s left throughout, so chunks end by their row limit, not by time), until the import is
completed.

Counted with botocore event hooks on the cached shared.aws.client("dynamodb") that the code uses: items read (GetItem's
Item, Query's Items, BatchGetItem's items) and items written (Put/Update/Delete and each action of TransactWriteItems),
split into the rows' own work (learners, sources, catalogue, review items, outbox) and the import's bookkeeping
(`IMPORT#` items: the job, its chunk records). Figures, not a timed test: the per-chunk seconds are moto's.

Then the cost of one completion against a learner's history: two more partner users, one holding HISTORY[0] (10) and
one HISTORY[1] (1,000) earlier completions of the certification's courses (passes and fails, recorded through the same
use case, so their latest-pass items are there as they would be), each sends one more pass as an LMS webhook delivery
would be recorded (no catalogue cache); the items read, written and the calls of that one completion are printed per
history, and must be equal (docs/training.md "Cost": a completion reads its certifications' awards and their courses'
latest passes by key, and per other required course the pass-log entry nearest it on either side by a Limit-1 key-range
Query: never the history).
Usage: `.venv/bin/python benchmarks/training_import.py [--rows 1000] [--history 10,1000]`.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions" / "training")]
from tests.support.in_process_aws import use_in_process_aws  # noqa: E402 - needs ROOT on sys.path

use_in_process_aws("benchmark")  # before boto3 is imported
warnings.filterwarnings("ignore", message="No application metrics to publish")

import boto3  # noqa: E402 - the environment above must be set first

from benchmarks.dynamo_meter import provisioned_stack  # noqa: E402
from shared.aws import client  # noqa: E402
from tests.integration.conftest import Stack  # noqa: E402
from tests.integration.test_training import VENDOR, call, catalogue, partner  # noqa: E402
from training.incoming import IncomingCompletion  # noqa: E402
from training.service import CompletionRecorder  # noqa: E402

USERS = 20
HISTORY = (10, 1000)


@dataclass
class Meter:
    """Items the code's DynamoDB client read and wrote since reset(), by kind (`import`: IMPORT# items)."""

    read: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    def attach(self, dynamodb: Any) -> None:
        dynamodb.meta.events.register("provide-client-params.dynamodb", self._sent)
        dynamodb.meta.events.register("after-call.dynamodb", self._answered)

    def reset(self) -> None:
        self.read, self.written, self.calls = Counter(), Counter(), Counter()

    @staticmethod
    def kind(key: dict[str, Any]) -> str:
        return "import" if str(key.get("pk", {}).get("S", "")).startswith("IMPORT#") else "rows"

    def _sent(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        writes: list[dict[str, Any]] = []
        if model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                (_, body), *_ = action.items()
                writes.append(body.get("Item") or body["Key"])
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            writes.append(params.get("Item") or params["Key"])
        elif model.name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    put = request.get("PutRequest")
                    writes.append(put["Item"] if put else request["DeleteRequest"]["Key"])
        for item in writes:
            self.written[self.kind(item)] += 1

    def _answered(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "GetItem" and parsed.get("Item"):
            items = [parsed["Item"]]
        elif model.name == "Query":
            items = parsed.get("Items") or []
        elif model.name == "BatchGetItem":
            items = [i for found in (parsed.get("Responses") or {}).values() for i in found]
        else:
            items = []
        for item in items:
            self.read[self.kind(item)] += 1


def csv_file(rows: int, emails: list[str], courses: list[str]) -> bytes:
    lines = ["learner_email,lms_course_id,result,completed_at,score"]
    for i in range(rows):
        day, minute = 1 + i % 28, i // 28
        if i % 20 == 5:
            lines.append(f"stranger{i}@elsewhere.example,{courses[0]},passed,2026-10-{day:02d},")
        elif i % 20 == 11:
            lines.append(f"not-an-email-{i},{courses[0]},passed,2026-10-{day:02d},")
        elif i % 20 == 17:
            lines.append(lines[i])  # the row before this one again
        else:
            at = f"2026-10-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
            lines.append(f"{emails[i % len(emails)]},{courses[i % 2]},passed,{at},{60 + i % 40}")
    return "\n".join(lines).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--history", default=",".join(str(n) for n in HISTORY))
    arguments = parser.parse_args()
    rows, histories = arguments.rows, [int(n) for n in arguments.history.split(",")]
    with provisioned_stack() as stack:
        run(stack, rows)
        one_completion_per_history(stack, histories)


def run(stack: Stack, rows: int) -> None:
    api = stack.load("TrainingApiFunction", "training.api")
    consumers = stack.load("TrainingEventsFunction", "training.consumers")
    training = (api, consumers, stack.load("TrainingOutboxFunction", "training.outbox"))
    _, people = partner(stack, training, *[(f"user{n}", "partner-user") for n in range(USERS)])
    setup = catalogue(stack, training)
    emails = [claims["email"] for claims in people.values()]
    courses = [setup["courses"]["a"]["lms_course_id"], setup["courses"]["b"]["lms_course_id"]]
    status, created = call(stack, training, "POST", "/training/imports", body={"file_name": "bench.csv"}, claims=VENDOR)
    assert status == 201, created
    boto3.client("s3").put_object(
        Bucket=stack.ref("TrainingImportBucket"),
        Key=created["upload"]["fields"]["key"],
        Body=csv_file(rows, emails, courses),
        ContentType="text/csv",
    )
    path = {"import_id": created["import_id"]}
    status, queued = call(
        stack, training, "POST", "/training/imports/{import_id}/submission", path, body={}, claims=VENDOR
    )
    assert status == 202, queued
    meter = Meter()
    meter.attach(client("dynamodb"))
    chunks: list[tuple[int, float, str]] = []
    done = 0
    while True:
        started = time.perf_counter()
        delivered = stack.deliver("TrainingWorkQueue", consumers.handler)
        if not delivered["delivered"]:
            break
        assert not delivered["batchItemFailures"], delivered
        job = consumers.service().repository.import_job(created["import_id"])
        chunks.append((job.rows_processed - done, time.perf_counter() - started, job.status))
        done = job.rows_processed
    status, report = call(stack, training, "GET", "/training/imports/{import_id}", path, claims=VENDOR)
    assert report["status"] == "completed" and report["total_rows"] == rows, report

    print(f"Training CSV import of {rows} rows ({USERS} partner users, chunk limit {consumers.service().chunk_rows})")
    print(f"outcomes: {report['counts']}")
    print(f"chunks: {len(chunks)}; rows per chunk: {[c[0] for c in chunks]}")
    print("moto seconds per chunk (not DynamoDB's): " + ", ".join(f"{c[1]:.1f}" for c in chunks))
    read, written = sum(meter.read.values()), sum(meter.written.values())
    print(f"{'':32}{'total':>10}{'per row':>10}")
    for label, count in (
        ("items read", read),
        ("  by the rows", meter.read["rows"]),
        ("  import bookkeeping (IMPORT#)", meter.read["import"]),
        ("items written", written),
        ("  by the rows", meter.written["rows"]),
        ("  import bookkeeping (IMPORT#)", meter.written["import"]),
    ):
        print(f"{label:32}{count:>10}{count / rows:>10.2f}")
    print("calls: " + ", ".join(f"{name} {n} ({n / rows:.2f} per row)" for name, n in sorted(meter.calls.items())))
    print(
        f"per chunk (bookkeeping): {meter.read['import'] / len(chunks):.1f} items read, "
        f"{meter.written['import'] / len(chunks):.1f} written"
    )


def one_completion_per_history(stack: Stack, histories: list[int]) -> None:
    api = stack.load("TrainingApiFunction", "training.api")
    consumers = stack.load("TrainingEventsFunction", "training.consumers")
    training = (api, consumers, stack.load("TrainingOutboxFunction", "training.outbox"))
    setup = catalogue(stack, training)
    lms = [setup["courses"][name]["lms_course_id"] for name in ("a", "b", "r")]
    repository = consumers.service().repository
    now = datetime.now(UTC).replace(microsecond=0)
    meter = Meter()
    meter.attach(client("dynamodb"))
    figures: dict[int, tuple[int, int, dict[str, int], str]] = {}
    for earlier in histories:
        _, people = partner(stack, training, ("learner", "partner-user"))
        email = people["learner"]["email"]

        def completion(n: int, course: str, passed: bool, at: datetime, email: str = email) -> IncomingCompletion:
            return IncomingCompletion(
                source="webhook",
                dedup_key=f"wh:bench:{email}:{n}",
                learner_email=email,
                lms_course_id=course,
                passed=passed,
                completed_at=at,
            )

        seeding = CompletionRecorder(repository, remember_catalogue=True)
        for n in range(earlier):  # oldest first, one every 6 hours up to a day ago: passes and fails of all 3 courses
            at = now - timedelta(days=1, hours=6 * (earlier - n))
            outcome = seeding.record(completion(n, lms[n % 3], n % 4 != 3, at), origin="bench:seed")
            assert outcome.outcome == "accepted", outcome
        meter.reset()
        recorded = CompletionRecorder(repository).record(
            completion(earlier, lms[0], True, now - timedelta(minutes=1)), origin="bench:one"
        )
        assert recorded.outcome == "accepted", recorded
        figures[earlier] = (
            sum(meter.read.values()),
            sum(meter.written.values()),
            dict(sorted(meter.calls.items())),
            recorded.outcome,
        )
    print()
    print("One completion (a pass of a required course, recorded as a webhook delivery) by a learner with a history:")
    print(f"{'earlier completions':>20}{'items read':>12}{'items written':>15}  calls")
    for earlier, (read, written, calls, _) in figures.items():
        print(f"{earlier:>20}{read:>12}{written:>15}  {', '.join(f'{k} {v}' for k, v in calls.items())}")
    same = len({(read, written, tuple(calls.items())) for read, written, calls, _ in figures.values()}) == 1
    print("equal whatever the history: " + ("yes" if same else "NO"))
    assert same, figures


if __name__ == "__main__":
    main()
