"""Money: integer minor units with an ISO 4217 currency code; never float."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "JPY",
        "CNY",
        "HKD",
        "SGD",
        "INR",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "BRL",
        "MXN",
        "ZAR",
        "AED",
        "SAR",
        "ILS",
        "KRW",
        "TWD",
    ]
)


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    amount_minor: int = Field(ge=0, le=10**15, strict=True)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unsupported currency {value}")
        return value


ZERO_DECIMAL = frozenset({"JPY", "KRW"})


def format_money(money: Money) -> str:
    """`12345 USD` -> `123.45 USD` with exact integer arithmetic (no float)."""
    if money.currency in ZERO_DECIMAL:
        return f"{money.amount_minor:,} {money.currency}"
    major, minor = divmod(money.amount_minor, 100)
    return f"{major:,}.{minor:02d} {money.currency}"
