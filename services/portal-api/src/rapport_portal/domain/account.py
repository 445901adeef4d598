"""What a customer owes: summary and aging arithmetic over the read model's open invoices."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

OPEN_STATUSES = ("open", "partially_paid")
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "120+")
ZERO = Decimal("0")


@dataclass(frozen=True)
class OpenItem:
    invoice_id: UUID
    number: str
    due_date: date
    currency: str
    open_amount: Decimal
    status: str


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    total_due: Decimal
    overdue: Decimal
    credits_available: Decimal


@dataclass(frozen=True)
class NextDue:
    invoice_id: UUID
    number: str
    due_date: date
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Summary:
    totals: list[CurrencyTotals]
    next_due: NextDue | None
    open_invoices: int
    overdue_invoices: int


def is_open(item: OpenItem) -> bool:
    return item.status in OPEN_STATUSES and item.open_amount > 0


def summarise(items: list[OpenItem], credits: dict[str, Decimal], today: date) -> Summary:
    open_items = [i for i in items if is_open(i)]
    currencies = sorted({i.currency for i in open_items} | {c for c, a in credits.items() if a > 0})
    totals = [
        CurrencyTotals(
            currency=c,
            total_due=sum((i.open_amount for i in open_items if i.currency == c), ZERO),
            overdue=sum((i.open_amount for i in open_items if i.currency == c and i.due_date < today), ZERO),
            credits_available=credits.get(c, ZERO),
        )
        for c in currencies
    ]
    upcoming = sorted((i for i in open_items if i.due_date >= today), key=lambda i: (i.due_date, i.number))
    next_due = None
    if upcoming:
        first = upcoming[0]
        next_due = NextDue(first.invoice_id, first.number, first.due_date, first.open_amount, first.currency)
    overdue_count = sum(1 for i in open_items if i.due_date < today)
    return Summary(totals, next_due, len(open_items), overdue_count)


def aging_bucket(due_date: date, as_of: date) -> str:
    days = (as_of - due_date).days
    if days <= 0:
        return "current"
    for upper, name in ((30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days <= upper:
            return name
    return "120+"


def aging_table(items: list[OpenItem], as_of: date) -> dict[str, dict[str, Decimal]]:
    """Per currency, the open amount in each bucket (every bucket present, zero when empty)."""
    table: dict[str, dict[str, Decimal]] = {}
    for item in items:
        if not is_open(item):
            continue
        row = table.setdefault(item.currency, {b: ZERO for b in AGING_BUCKETS})
        row[aging_bucket(item.due_date, as_of)] += item.open_amount
    return table
