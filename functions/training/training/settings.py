"""Training settings per function, validated from environment variables at cold start."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ApiSettings as EdgeSettings
from shared.settings import PartnerMail, QueueArn, SecondsList, TableName, Timers

# The largest CSV file training reads: the template parameter TrainingImportMaxBytes allows up to this (10,000 rows
# are about 1 MB; the parameter defaults to 5 MB).
IMPORT_CEILING_BYTES = 100 * 1024 * 1024


class ApiSettings(EdgeSettings):
    import_bucket: str = Field(min_length=3)
    import_max_bytes: int = Field(ge=1024, le=IMPORT_CEILING_BYTES)
    work_queue_url: str = Field(pattern=r"^https?://")


class ConsumerSettings(PartnerMail, Timers):
    table_name: TableName
    import_bucket: str = Field(min_length=3)
    work_queue_arn: QueueArn  # where the award timers' messages go
    certification_reminder_offsets: SecondsList
