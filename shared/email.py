"""Email addresses: a strict shape check (local part, registrable-looking domain), lower-cased; no DNS lookups.

pydantic's EmailStr costs ~45 ms of cold start (email-validator and a package-metadata check) for the same answer.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_EMAIL = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")


def normalise_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value) or len(value.split("@", 1)[0]) > 64:
        raise ValueError("value is not a valid email address")
    return value.lower()


Email = Annotated[str, AfterValidator(normalise_email), Field(json_schema_extra={"format": "email"}, max_length=254)]
