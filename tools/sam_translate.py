"""Translates template.yaml into the plain CloudFormation that SAM deploys, offline, for scanners such as checkov.

checkov reads SAM resources only shallowly (a function's inline policies, the API stage, the generated roles and
permissions are invisible to it), so `make security` scans this translation. A SAM resource's checkov skips
(`Metadata: checkov: skip:`) are carried to every resource SAM generates from it, so a skip written next to the
function or API in template.yaml also covers its stage, role and permissions.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
from pathlib import Path
from typing import Any

from infrastructure.local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = ROOT / "template.yaml"
# The transform needs a region only to build ARNs; nothing is looked up.
REGION = "us-east-1"
CODE_LOCATION_KEYS = ("CodeUri", "ContentUri", "DefinitionUri")


class _NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs only for policies named by string; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def checkov_skips(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """A resource's inline checkov skips (`Metadata.checkov.skip`), empty when it has none."""
    metadata = resource.get("Metadata") or {}
    return list((metadata.get("checkov") or {}).get("skip") or [])


def translate(document: dict[str, Any]) -> dict[str, Any]:
    """The SAM transform of a parsed template, with checkov skips carried to the generated resources."""
    from samtranslator.translator.transform import transform

    document = copy.deepcopy(document)
    for resource in document["Resources"].values():
        props = resource.get("Properties") or {}
        for key in CODE_LOCATION_KEYS:
            if isinstance(props.get(key), str):  # local folders: `sam build` uploads them, the transform wants S3
                props[key] = "s3://bucket/key"
    saved = {key: os.environ.get(key) for key in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    os.environ.update({key: value or REGION for key, value in saved.items()})
    try:
        translated = dict(transform(copy.deepcopy(document), {}, _NoManagedPolicies()))
    finally:  # leave the caller's environment as it was (the tests share a process)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    _carry_skips(document["Resources"], translated["Resources"])
    return translated


def _carry_skips(sources: dict[str, Any], generated: dict[str, Any]) -> None:
    """SAM names what it generates after the SAM resource (PrmApi -> PrmApiStage): match on the longest prefix."""
    owners = sorted(
        (lid for lid, res in sources.items() if str(res.get("Type", "")).startswith("AWS::Serverless::")),
        key=len,
        reverse=True,
    )
    for logical_id, resource in generated.items():
        if logical_id in sources and not str(sources[logical_id].get("Type", "")).startswith("AWS::Serverless::"):
            continue  # a plain CloudFormation resource keeps exactly its own metadata
        owner = next((lid for lid in owners if logical_id.startswith(lid)), None)
        skips = checkov_skips(sources[owner]) if owner else []
        if not skips:
            continue
        own = checkov_skips(resource)
        known = {skip.get("id") for skip in own}
        merged = own + [skip for skip in skips if skip.get("id") not in known]
        metadata = resource.setdefault("Metadata", {})
        metadata.setdefault("checkov", {})["skip"] = merged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    parser.add_argument("--output", type=Path, required=True, help="where to write the translated template (JSON)")
    args = parser.parse_args(argv)
    translated = translate(load_template(args.template))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(translated, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
