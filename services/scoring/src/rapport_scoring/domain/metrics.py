"""Receivables metrics: aging, DSO (standard, countback, best possible), ADD, CEI, WAPE.

Pure functions over plain numbers so each formula can be checked by hand (see the README).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d91_120", "d120_plus")
_UPPER_EDGES = ((0, "current"), (30, "d1_30"), (60, "d31_60"), (90, "d61_90"), (120, "d91_120"))


def bucket_of(days_past_due: int) -> str:
    """Not yet due (or due today) is current; 30 days late is still 1-30, 31 starts 31-60."""
    for upper, name in _UPPER_EDGES:
        if days_past_due <= upper:
            return name
    return "d120_plus"


def aging(open_items: Iterable[tuple[date, Decimal]], as_of: date) -> dict[str, Decimal]:
    """Open amounts by bucket; ``open_items`` are (due_date, open_amount)."""
    totals = {name: Decimal(0) for name in BUCKETS}
    for due_date, amount in open_items:
        totals[bucket_of((as_of - due_date).days)] += amount
    return totals


def dso_standard(receivables: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """DSO = ending receivables / credit sales of the period x days in the period."""
    if credit_sales <= 0:
        return None
    return receivables / credit_sales * days


def best_possible_dso(current_receivables: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """Best possible DSO = receivables not yet due / credit sales x days."""
    return dso_standard(current_receivables, credit_sales, days)


def average_days_delinquent(dso: Decimal | None, best: Decimal | None) -> Decimal | None:
    """ADD = DSO - best possible DSO: the days sales stay outstanding because of late payers."""
    if dso is None or best is None:
        return None
    return dso - best


@dataclass(frozen=True)
class MonthSales:
    days: int
    sales: Decimal


def dso_countback(receivables: Decimal, months_newest_first: Sequence[MonthSales]) -> Decimal | None:
    """Countback DSO: walk back month by month, consuming each month's sales from receivables.

    A month whose sales are fully covered adds all its days; the month that exhausts the
    receivables adds the covered fraction of its days. Receivables older than every month
    given count only the months given (the answer is then a lower bound).
    """
    if not months_newest_first:
        return None
    remaining, days = receivables, Decimal(0)
    for month in months_newest_first:
        if remaining <= 0:
            break
        if month.sales <= 0 or remaining >= month.sales:
            remaining -= max(month.sales, Decimal(0))
            days += month.days
            continue
        days += remaining / month.sales * month.days
        remaining = Decimal(0)
    return days


def collection_effectiveness(
    beginning_receivables: Decimal, credit_sales: Decimal, ending_receivables: Decimal, ending_current: Decimal
) -> Decimal | None:
    """CEI = (begin AR + sales - end AR) / (begin AR + sales - end current AR) x 100."""
    collectible = beginning_receivables + credit_sales - ending_current
    if collectible <= 0:
        return None
    return (beginning_receivables + credit_sales - ending_receivables) / collectible * 100


def wape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """Weighted absolute percentage error: sum |actual - forecast| / sum |actual|."""
    denominator = sum(abs(a) for a in actual)
    if denominator == 0:
        return None
    return sum(abs(a - f) for a, f in zip(actual, forecast, strict=True)) / denominator
