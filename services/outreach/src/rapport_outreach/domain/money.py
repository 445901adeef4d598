"""Fast localised money: Babel decides the format once per currency and locale, Python applies it.

Babel's ``format_currency`` re-reads CLDR data on every call; a message lists several amounts and
the sender formats thousands of messages a second. The fast path is only used for a currency and
locale where it reproduces Babel exactly on probe amounts; otherwise Babel formats every amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision

PROBES = (Decimal("0.5"), Decimal("7"), Decimal("12.345"), Decimal("999.99"), Decimal("1234.5"),
          Decimal("98765.43"), Decimal("1234567.891"))


@dataclass(frozen=True)
class _Shape:
    prefix: str
    suffix: str
    group: str
    decimal: str
    digits: int

    def apply(self, amount: Decimal) -> str:
        quantum = Decimal(1).scaleb(-self.digits)
        text = format(amount.quantize(quantum, rounding=ROUND_HALF_EVEN), f",.{self.digits}f")
        return self.prefix + text.translate({44: self.group, 46: self.decimal}) + self.suffix


@lru_cache(maxsize=1024)
def _shape(currency: str, locale: str) -> _Shape | None:
    """The format as Babel renders it, or None when this simple shape cannot reproduce it."""
    try:
        sample = format_currency(Decimal("1234567.89"), currency, locale=locale)
        digits = get_currency_precision(currency)
        first = next(i for i, c in enumerate(sample) if c.isdigit())
        last = max(i for i, c in enumerate(sample) if c.isdigit())
        body = sample[first:last + 1]
        group = body[1] if len(body) > 1 and not body[1].isdigit() else ","
        decimal = body[-(digits + 1)] if digits else "."
        shape = _Shape(sample[:first], sample[last + 1:], group, decimal, digits)
        if all(shape.apply(p) == format_currency(p, currency, locale=locale) for p in PROBES):
            return shape
    except (ValueError, StopIteration, IndexError):
        pass
    return None


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    shape = _shape(currency, locale) if amount >= 0 else None
    return shape.apply(amount) if shape else format_currency(amount, currency, locale=locale)
