"""The rewards API's S3 permissions are what its code calls, per prefix of the rewards bucket: payout batch files are
written (put_object) and downloaded by a presigned GET of the current version (rewards.exports); claim proofs are
uploaded by a presigned POST, read by version (head, first bytes, downloads) and a refused one deleted with its
version (rewards.proofs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.infra.test_template import as_list, policy_statements, template

REWARDS = Path(__file__).resolve().parents[2] / "functions" / "rewards" / "rewards"
BUCKET_ARN = "${RewardsBucket.Arn}"


def s3_grants(owner: str) -> dict[str, set[str]]:
    """Allowed s3 actions of `owner`'s role per resource (the text of each `!Sub` ARN)."""
    grants: dict[str, set[str]] = {}
    for who, statement in policy_statements(template()):
        if who != owner or statement.get("Effect") != "Allow":
            continue
        actions = {str(a) for a in as_list(statement.get("Action")) if str(a).startswith("s3:")}
        for resource in as_list(statement.get("Resource")):
            text: Any = resource.get("Fn::Sub", resource) if isinstance(resource, dict) else resource
            if actions and isinstance(text, str):
                grants.setdefault(text, set()).update(actions)
    return grants


def s3_calls(module: str) -> set[str]:
    """The S3 calls a module makes, with those of shared.uploads' bucket class when it uses it."""
    source = (REWARDS / module).read_text()
    if "shared.uploads import" in source:
        source += (Path(__file__).resolve().parents[2] / "shared" / "uploads.py").read_text()
    return set(re.findall(r"\b(put_object|get_object|head_object|delete_object\w*|generate_presigned_\w+)\(", source))


def test_payout_batch_files_may_only_be_written_and_read() -> None:
    assert s3_calls("exports.py") == {"put_object"}  # the download URL is proofs.download_url without a version
    assert s3_grants("RewardsApiFunction")[f"{BUCKET_ARN}/payout-batches/*"] == {"s3:PutObject", "s3:GetObject"}


def test_claim_proofs_keep_what_the_upload_check_and_download_call() -> None:
    assert s3_calls("proofs.py") == {
        "head_object",
        "get_object",
        "delete_object",
        "generate_presigned_post",
        "generate_presigned_url",
    }
    assert s3_grants("RewardsApiFunction")[f"{BUCKET_ARN}/claims/*"] == {
        "s3:PutObject",  # the presigned POST is signed with the function's role
        "s3:GetObject",  # head_object and ranged get_object of the current version
        "s3:GetObjectVersion",  # ...of the checked version, and the reviewer's download of it
        "s3:DeleteObject",  # a refused file, on an unversioned bucket
        "s3:DeleteObjectVersion",  # a refused file's checked version (the bucket is versioned)
    }
    assert not any(
        action.startswith("s3:")
        for resource, actions in s3_grants("RewardsApiFunction").items()
        if resource.startswith(BUCKET_ARN + "/") and not resource.endswith(("/claims/*", "/payout-batches/*"))
        for action in actions
    )
