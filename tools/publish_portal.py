"""Publish the partner portal to a deployed stack: write config.json from the stack's outputs, upload to its bucket.

Usage: `python -m tools.publish_portal <stack-name> [--region eu-west-1]` after `sam deploy`.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
from pathlib import Path
from typing import Any

PORTAL = Path(__file__).resolve().parent.parent / "portal"


def portal_config(outputs: dict[str, str], region: str) -> dict[str, Any]:
    return {
        "apiBaseUrl": outputs["ApiUrl"],
        "region": region,
        "programmeName": outputs["ProgrammeName"],
        "cognito": {
            "endpoint": f"https://cognito-idp.{region}.amazonaws.com/",
            "userPoolId": outputs["UserPoolId"],
            "clientId": outputs["UserPoolClientId"],
        },
    }


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("--region", default=None)
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    region = session.region_name
    stack = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    s3 = session.client("s3")
    bucket = outputs["PortalBucketName"]
    for path in sorted(p for p in PORTAL.rglob("*") if p.is_file() and p.name != "config.json"):
        key = str(path.relative_to(PORTAL))
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type, "CacheControl": "no-cache"})
    s3.put_object(
        Bucket=bucket,
        Key="config.json",
        Body=json.dumps(portal_config(outputs, region)).encode(),
        ContentType="application/json",
        CacheControl="no-cache",
    )
    print(f"portal published to s3://{bucket}; open {outputs['PortalUrl']}")


if __name__ == "__main__":
    main()
