"""Value checks shared by the API and the bulk import: money, currencies, dates."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies

# ISO-4217 from CLDR (via babel); the "no currency" and testing codes are not money.
CURRENCIES: frozenset[str] = frozenset(list_currencies()) - {"XXX", "XTS"}
MAX_SCALE = 4


def currency_code(value: object) -> str:
    code = str(value or "").strip().upper()
    if code not in CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO-4217 currency code")
    return code


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point (JPY 0, USD 2, KWD 3): how processors count minor units."""
    return get_currency_precision(currency)


def amount(value: object, *, allow_zero: bool = True) -> Decimal:
    """A non-negative decimal amount, from a string or a number (never via float)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("is not a number")
    text = str(value).strip().replace(",", "")
    if text.startswith("(") and text.endswith(")"):  # accountants write negatives in parentheses
        text = "-" + text[1:-1]
    try:
        number = Decimal(text) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    if number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{value} must be {'zero or more' if allow_zero else 'more than zero'}")
    if -number.as_tuple().exponent > MAX_SCALE:
        raise ValueError(f"{value} has more than {MAX_SCALE} decimal places")
    return number


def calendar_date(value: object) -> date:
    """An ISO date; ``2026-02-30`` is refused, not rolled over."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 and text[4] == "-" else date.fromisoformat(text)
    except (ValueError, IndexError):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def due_not_before_issue(issue: date, due: date) -> None:
    if due < issue:
        raise ValueError(f"due_date {due} is before issue_date {issue}")
