"""Money in one place (shared.money): exact minor units, formatting for people, and parsing what people type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.money import AmountRefused, Money, format_amount, format_money, major_units, minor_digits, parse_amount

USD_LIMIT = 500_000  # 5,000.00 USD
JPY_LIMIT = 500_000  # 500,000 JPY


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("1250", 125_000),
        ("1,250.50", 125_050),
        ("1250.5", 125_050),
        (" 0.01 ", 1),
        ("5000.00", 500_000),
        ("5,000", 500_000),
        ("0.10", 10),
    ],
)
def test_amounts_parse_exactly(text: str, minor: int) -> None:
    assert parse_amount(text, "USD", at_most=USD_LIMIT) == minor


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "0.00",
        "-1",
        "1.005",
        "1e3",
        "١٢٣",  # Arabic-Indic digits
        "\uff11\uff12\uff13",  # full-width digits
        "",
        "   ",
        "1,25",
        "12,50.00",
        "$5",
        "1 000",
        "1.",
        ".5",
        "nan",
        "inf",
        "5000.01",
        "5,000.01",
        "9" * 40,
        "0x10",
    ],
)
def test_bad_or_out_of_range_amounts_are_refused(text: str) -> None:
    with pytest.raises(AmountRefused):
        parse_amount(text, "USD", at_most=USD_LIMIT)


def test_refusals_say_what_is_wrong() -> None:
    def why(text: str, currency: str = "USD") -> str:
        with pytest.raises(AmountRefused) as refused:
            parse_amount(text, currency, at_most=USD_LIMIT)
        return str(refused.value)

    assert why("5000.01") == "The amount must be at most 5,000.00 USD."
    assert why("0") == "The amount must be more than zero."
    assert why("1.005") == "USD amounts have at most 2 decimal places."
    assert why("100.5", "JPY") == "JPY amounts have no decimal places."
    assert why("1e3") == "Enter the amount as a plain number, for example 5000.00."


def test_zero_decimal_currencies_take_whole_units_only() -> None:
    assert minor_digits("JPY") == 0 and minor_digits("KRW") == 0 and minor_digits("EUR") == 2
    assert parse_amount("1,000", "JPY", at_most=JPY_LIMIT) == 1000
    assert parse_amount("500000", "JPY", at_most=JPY_LIMIT) == 500_000
    for text in ("100.5", "100.0", "500001"):
        with pytest.raises(AmountRefused):
            parse_amount(text, "JPY", at_most=JPY_LIMIT)
    assert major_units(500_000, "JPY") == "500000"
    assert major_units(500_000, "USD") == "5000.00"
    assert major_units(5, "USD") == "0.05"


def test_amounts_read_for_people() -> None:
    assert format_amount(123_456_789, "USD") == "1,234,567.89 USD"
    assert format_amount(5, "EUR") == "0.05 EUR"
    assert format_amount(1200, "JPY") == "1,200 JPY"
    assert format_amount(0, "GBP") == "0.00 GBP"


def test_money_is_exact_integer_minor_units() -> None:
    assert format_money(Money(amount_minor=123456789, currency="USD")) == "1,234,567.89 USD"
    assert format_money(Money(amount_minor=5, currency="EUR")) == "0.05 EUR"
    assert format_money(Money(amount_minor=1200, currency="JPY")) == "1,200 JPY"
    for bad in (
        {"amount_minor": 1.5, "currency": "USD"},
        {"amount_minor": -1, "currency": "USD"},
        {"amount_minor": "10", "currency": "USD"},
        {"amount_minor": 10, "currency": "XXX"},
        {"amount_minor": 10, "currency": "usd"},
    ):
        with pytest.raises(ValidationError):
            Money.model_validate(bad)
