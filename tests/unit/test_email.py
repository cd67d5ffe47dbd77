"""The kernel's email type: strict shape, lower-cased, bounded."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.email import Email


class Form(BaseModel):
    email: Email


@pytest.mark.parametrize(
    ("raw", "stored"), [("Ada@Acme.CO.UK", "ada@acme.co.uk"), ("o'brien+prm@x-y.example", "o'brien+prm@x-y.example")]
)
def test_valid_addresses_are_lower_cased(raw: str, stored: str) -> None:
    assert Form(email=raw).email == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ada",
        "ada@",
        "@acme.com",
        "ada@acme",
        "ada@@acme.com",
        "a b@acme.com",
        "ada@-acme.com",
        "ada@acme..com",
        "ada.@acme.com",
        f"{'a' * 65}@acme.com",
        f"ada@{'a' * 250}.com",
    ],
)
def test_invalid_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        Form(email=raw)
