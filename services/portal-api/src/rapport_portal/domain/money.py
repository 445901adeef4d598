"""Money as the portal shows it: Decimal amounts keyed by ISO-4217 currency."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Iterable


def totals_by_currency(items: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0"))
    for currency, amount in items:
        totals[currency] += amount
    return dict(totals)


def to_minor_units(amount: Decimal, exponent: int) -> int:
    """Stripe wants integer minor units; refuse amounts that do not fit the currency's precision."""
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than the currency allows ({exponent})")
    return int(scaled)
