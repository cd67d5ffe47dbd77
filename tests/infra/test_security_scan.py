"""The security scan's ground rules: every checkov skip in template.yaml says why, and the scan sees what SAM deploys.

`make security` (part of `make test`) is the gate: it runs checkov, pinned and offline, on the SAM-translated template
and fails on any failed check. These tests keep the skips honest and the translation it scans faithful.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from infrastructure.local.template import load_template
from tools.sam_translate import checkov_skips, translate

ROOT = Path(__file__).resolve().parents[2]
CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")


@cache
def _document() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@cache
def _translated() -> dict[str, Any]:
    return translate(_document())


def test_every_checkov_skip_names_a_check_and_gives_a_one_line_reason() -> None:
    problems = []
    for logical_id, resource in _document()["Resources"].items():
        seen = set()
        for skip in checkov_skips(resource):
            check, comment = str(skip.get("id", "")), str(skip.get("comment", "")).strip()
            if not CHECK_ID.match(check):
                problems.append(f"{logical_id}: {check!r} is not a checkov AWS check id")
            if check in seen:
                problems.append(f"{logical_id}: {check} is skipped twice")
            seen.add(check)
            if len(comment) < 20 or "\n" in comment:
                problems.append(f"{logical_id}: skip of {check} needs a one-line reason, got {comment!r}")
    assert not problems, "\n".join(problems)


def test_skips_stay_out_of_the_way_of_what_must_hold() -> None:
    """Checks the template is meant to pass must never be skipped away."""
    must_pass = {
        "CKV_AWS_18": {"PortalBucket", "MdfProofBucket", "TrainingImportBucket"},  # S3 access logs
        "CKV_AWS_21": {"PortalBucket", "MdfProofBucket", "AccessLogBucket"},  # versioning
        "CKV_AWS_76": {"PrmApi"},  # API access logs
        "CKV_AWS_86": {"PortalDistribution"},  # CloudFront access logs
        # public routes: capped
        "CKV_AWS_115": {"OnboardingApiFunction", "ApprovalsApiFunction", "MdfApiFunction", "TrainingApiFunction"},
    }
    resources = _document()["Resources"]
    for check, owners in must_pass.items():
        for logical_id in owners:
            assert check not in {s.get("id") for s in checkov_skips(resources[logical_id])}, f"{logical_id}: {check}"


def test_functions_behind_public_routes_reserve_and_cap_their_concurrency() -> None:
    resources = _document()["Resources"]
    for logical_id in ("OnboardingApiFunction", "ApprovalsApiFunction", "MdfApiFunction", "TrainingApiFunction"):
        reserved = resources[logical_id]["Properties"].get("ReservedConcurrentExecutions")
        assert reserved == {
            "Fn::If": [
                "ReservesPublicApiConcurrency",
                {"Ref": "PublicApiReservedConcurrency"},
                {"Ref": "AWS::NoValue"},
            ]
        }, logical_id


def test_every_queue_is_explicitly_encrypted() -> None:
    queues = {lid: r for lid, r in _document()["Resources"].items() if r.get("Type") == "AWS::SQS::Queue"}
    assert queues
    unencrypted = [
        lid
        for lid, r in queues.items()
        if r["Properties"].get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in r["Properties"]
    ]
    assert not unencrypted


def test_the_scanned_translation_carries_sam_skips_to_what_sam_generates() -> None:
    resources = _translated()["Resources"]
    assert resources["PrmApi"]["Type"] == "AWS::ApiGateway::RestApi"
    stages = [lid for lid, r in resources.items() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stages, "the SAM API produced no stage"
    for stage in stages:
        assert "CKV_AWS_120" in {s["id"] for s in checkov_skips(resources[stage])}, stage
        assert "AccessLogSetting" in resources[stage]["Properties"], stage
    function = resources["OnboardingApiFunction"]
    assert function["Type"] == "AWS::Lambda::Function"
    assert {s["id"] for s in checkov_skips(function)} >= {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"}
    # Plain CloudFormation resources keep exactly their own skips.
    assert checkov_skips(resources["PortalBucket"]) == []


def test_make_test_runs_the_security_scan_offline() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "security" in test_line.split("##")[0].split()
    recipe = makefile.split("\nsecurity:", 1)[1].split("\n\n", 1)[0]
    assert "--skip-download" in recipe and "-u BC_API_KEY" in recipe and "--framework cloudformation" in recipe
    assert "tools.sam_translate" in recipe
