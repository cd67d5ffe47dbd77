"""The content functions' S3 permissions are per prefix of the content bucket and what their code calls: the API
hands out presigned POSTs and presigned GETs of one object version (never deletes a library file); processing reads
one object version (head, first bytes, digest) and deletes a refused or stray one, and never writes; no content
function is granted the whole bucket."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.infra.test_template import as_list, policy_statements, template

CONTENT = Path(__file__).resolve().parents[2] / "functions" / "content" / "content"
BUCKET_ARN = "${ContentBucket.Arn}"
FUNCTIONS = ("ContentApiFunction", "ContentProcessingFunction", "ContentEventsFunction", "ContentOutboxFunction")


def s3_grants(owner: str) -> dict[str, set[str]]:
    """Allowed s3 actions of `owner`'s role per resource (the text of each `!Sub` ARN, or the GetAtt's ARN)."""
    grants: dict[str, set[str]] = {}
    for who, statement in policy_statements(template()):
        if who != owner or statement.get("Effect") != "Allow":
            continue
        actions = {str(a) for a in as_list(statement.get("Action")) if str(a).startswith("s3:")}
        for resource in as_list(statement.get("Resource")):
            text: Any = resource
            if isinstance(resource, dict):
                if "Fn::Sub" in resource:
                    text = resource["Fn::Sub"]
                elif "Fn::GetAtt" in resource:
                    text = "${" + ".".join(resource["Fn::GetAtt"]) + "}"
            if actions and isinstance(text, str):
                grants.setdefault(text, set()).update(actions)
    return grants


def s3_calls(module: str) -> set[str]:
    """The S3 calls a module makes, with those of shared.uploads' bucket class when it uses it."""
    source = (CONTENT / module).read_text()
    if "shared.uploads import" in source:
        source += (Path(__file__).resolve().parents[2] / "shared" / "uploads.py").read_text()
    return set(re.findall(r"\b(put_object|get_object|head_object|delete_object\w*|generate_presigned_\w+)\(", source))


def test_processing_reads_and_deletes_object_versions_and_never_writes() -> None:
    assert {"head_object", "get_object", "delete_object"} <= s3_calls("storage.py")
    grants = s3_grants("ContentProcessingFunction")
    assert grants[f"{BUCKET_ARN}/assets/*"] == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    }
    assert not any("s3:PutObject" in actions for resource, actions in grants.items() if "/assets/" in resource)


def test_the_api_uploads_and_signs_downloads_of_library_files_but_never_deletes_them() -> None:
    grants = s3_grants("ContentApiFunction")
    assets = grants[f"{BUCKET_ARN}/assets/*"]
    assert {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"} <= assets
    assert not {a for a in assets if a.startswith("s3:Delete")}


def test_no_content_function_is_granted_the_whole_bucket_or_another_bucket() -> None:
    for function in FUNCTIONS:
        for resource in s3_grants(function):
            assert resource == BUCKET_ARN or (
                resource.startswith(f"{BUCKET_ARN}/") and resource != f"{BUCKET_ARN}/*"
            ), (
                function,
                resource,
            )
