"""S3 adapter of the payout file port (`rewards.ports.PayoutFiles`): a batch's CSV in the rewards bucket (private,
encrypted, versioned) and a short-lived download of it."""

from __future__ import annotations

from dataclasses import dataclass

from rewards.proofs import download_url
from shared.aws import client


@dataclass(frozen=True)
class PayoutFilesS3:
    bucket: str

    def put_csv(self, key: str, text: str) -> None:
        client("s3").put_object(
            Bucket=self.bucket,
            Key=key,
            Body=text.encode("utf-8"),
            ContentType="text/csv; charset=utf-8",
        )

    def download_url(self, key: str, file_name: str) -> str:
        return download_url(client("s3"), self.bucket, key, file_name)
