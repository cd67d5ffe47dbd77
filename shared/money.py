"""Money: integer minor units with an ISO 4217 currency code; never float. Formatting for people and parsing what
people type live here, and only here."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


def _known_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"unsupported currency {value}")
    return value


# An ISO 4217 code the PRM supports (every model that names a currency uses this one type).
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    amount_minor: int = Field(ge=0, le=10**15, strict=True)
    currency: CurrencyCode


ZERO_DECIMAL = frozenset({"JPY", "KRW"})
MAX_AMOUNT_TEXT = 32
# ASCII digits only ([0-9], not \d), optional comma thousands groups, optional decimals: "1250", "1,250.50".
AMOUNT_TEXT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


class AmountRefused(ValueError):
    """What a person typed is not an amount we accept; the message says why, in words for that person."""


def minor_digits(currency: str) -> int:
    """Decimal places of the currency's minor unit."""
    return 0 if currency in ZERO_DECIMAL else 2


def format_amount(amount_minor: int, currency: str) -> str:
    """`12345, USD` -> `123.45 USD` with exact integer arithmetic (no float)."""
    digits = minor_digits(currency)
    if digits == 0:
        return f"{amount_minor:,} {currency}"
    major, minor = divmod(amount_minor, 10**digits)
    return f"{major:,}.{minor:0{digits}d} {currency}"


def format_money(money: Money) -> str:
    """`12345 USD` -> `123.45 USD` with exact integer arithmetic (no float)."""
    return format_amount(money.amount_minor, money.currency)


def major_units(amount_minor: int, currency: str) -> str:
    """`500000 USD` -> `5000.00`: what an amount field is prefilled with (no thousands separators, no currency)."""
    digits = minor_digits(currency)
    if digits == 0:
        return str(amount_minor)
    whole, minor = divmod(amount_minor, 10**digits)
    return f"{whole}.{minor:0{digits}d}"


def parse_amount(text: str, currency: str, *, at_most: int) -> int:
    """A person's amount in major units ("1,250.50") as exact minor units, more than zero and at most `at_most`;
    never through float. Raises AmountRefused saying what is wrong."""
    typed = text.strip()
    digits = minor_digits(currency)
    if len(typed) > MAX_AMOUNT_TEXT or not AMOUNT_TEXT.fullmatch(typed):
        raise AmountRefused(f"Enter the amount as a plain number, for example {major_units(at_most, currency)}.")
    whole, _, fraction = typed.replace(",", "").partition(".")
    if len(fraction) > digits:
        places = "no decimal places" if digits == 0 else f"at most {digits} decimal places"
        raise AmountRefused(f"{currency} amounts have {places}.")
    amount_minor = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if amount_minor <= 0:
        raise AmountRefused("The amount must be more than zero.")
    if amount_minor > at_most:
        raise AmountRefused(f"The amount must be at most {format_amount(at_most, currency)}.")
    return amount_minor
