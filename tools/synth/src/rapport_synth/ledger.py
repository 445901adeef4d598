"""Invoices over the months before ``today`` and the payments each behaviour makes on them."""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from rapport_synth.model import Allocation, Behaviour, Customer, Invoice, Payment
from rapport_synth.world import COUNTRIES, PAYMENT_METHODS, SIZES

CENT = Decimal("0.01")
TAX_RATES = {(c.code, c.currency): Decimal(c.tax_rate) for c in COUNTRIES}


@dataclass(frozen=True)
class Settlement:
    """One customer's money towards one invoice on one day."""

    invoice: Invoice
    received_on: date
    amount: Decimal


def make_invoices(rng: random.Random, customers: list[Customer], months: int, today: date) -> list[Invoice]:
    drafts = [_invoice(rng, c, today - timedelta(days=rng.randrange(months * 30 + 1)))
              for c in customers for _ in range(_invoice_count(rng, c, months))]
    drafts.sort(key=lambda inv: (inv.issue_date, inv.customer_external_id, inv.amount))
    for seq, invoice in enumerate(drafts, start=1):
        invoice.number = f"INV-{invoice.issue_date.year}-{seq:05d}"
    return drafts


def _invoice_count(rng: random.Random, customer: Customer, months: int) -> int:
    lo, hi = SIZES[customer.size][1]
    return sum(rng.randint(lo, hi) for _ in range(months))


def _invoice(rng: random.Random, customer: Customer, issued: date) -> Invoice:
    _, _, mu, sigma = SIZES[customer.size]
    net = _money(math.exp(rng.gauss(mu, sigma)))
    tax = _money(net * TAX_RATES.get((customer.country, customer.currency), Decimal(0)))
    return Invoice(
        number="", customer_external_id=customer.external_id, issue_date=issued,
        due_date=issued + timedelta(days=customer.payment_terms_days), currency=customer.currency,
        amount=net + tax, tax_amount=tax,
        po_number=f"PO-{rng.randrange(10000, 99999)}" if rng.random() < 0.6 else None,
        terms=f"NET{customer.payment_terms_days}",
    )


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def settlements(rng: random.Random, customer: Customer, invoices: list[Invoice], today: date) -> list[Settlement]:
    """What the customer's behaviour pays, up to and including ``today``."""
    slip = _slipped_invoice(rng, customer, invoices, today)
    out: list[Settlement] = []
    for invoice in invoices:
        out.extend(_pay(rng, customer.behaviour, invoice, invoice is slip))
    return [s for s in out if s.received_on <= today]


def _slipped_invoice(rng: random.Random, customer: Customer, invoices: list[Invoice], today: date) -> Invoice | None:
    if customer.behaviour is not Behaviour.ONE_TIME_SLIP:
        return None
    past_due = [i for i in invoices if i.due_date < today]
    return rng.choice(past_due) if past_due else None


def _pay(rng: random.Random, behaviour: Behaviour, invoice: Invoice, slipped: bool) -> list[Settlement]:
    if behaviour is Behaviour.PARTIAL:
        return _instalments(rng, invoice)
    if behaviour is Behaviour.DISPUTER and rng.random() < 0.3:
        invoice.disputed = True
        return []
    late = _days_late(rng, behaviour, slipped)
    if late is None:
        return []
    received = max(invoice.issue_date + timedelta(days=1), invoice.due_date + timedelta(days=late))
    return [Settlement(invoice, received, invoice.amount)]


def _days_late(rng: random.Random, behaviour: Behaviour, slipped: bool) -> int | None:
    if slipped:
        return rng.randint(30, 60)
    if behaviour is Behaviour.CHRONIC_LATE:
        return None if rng.random() < 0.15 else rng.randint(40, 120)
    ranges = {
        Behaviour.PROMPT: (-5, 2), Behaviour.HABITUAL_LATE: (10, 20),
        Behaviour.ONE_TIME_SLIP: (-3, 2), Behaviour.DISPUTER: (0, 10),
    }
    return rng.randint(*ranges[behaviour])


def _instalments(rng: random.Random, invoice: Invoice) -> list[Settlement]:
    parts = rng.choice((2, 3))
    day = invoice.due_date + timedelta(days=rng.randint(0, 10))
    remaining = invoice.amount
    out = []
    for i in range(parts):
        share = remaining if i == parts - 1 else _money(invoice.amount * Decimal(rng.randint(30, 50)) / 100)
        out.append(Settlement(invoice, day, share))
        remaining -= share
        day += timedelta(days=rng.randint(15, 30))
    return out


def make_payments(rng: random.Random, customers: list[Customer], invoices: list[Invoice], today: date) -> list[Payment]:
    by_customer: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_customer[invoice.customer_external_id].append(invoice)
    drafts: list[Payment] = []
    for customer in customers:
        own = settlements(rng, customer, by_customer[customer.external_id], today)
        drafts.extend(p for p in _payments_of(rng, customer, own) if p.received_on <= today)
    drafts.sort(key=lambda p: (p.received_on, p.customer_external_id, p.amount))
    for seq, payment in enumerate(drafts, start=1):
        payment.external_id = f"PAY-{seq:06d}"
    return drafts


def _payments_of(rng: random.Random, customer: Customer, own: list[Settlement]) -> list[Payment]:
    # Large customers run one payment batch per week (on Friday) that covers several invoices.
    groups: dict[date, list[Settlement]] = defaultdict(list)
    for s in own:
        day = _next_friday(s.received_on) if customer.size == "large" else s.received_on
        groups[day].append(s)
    return [_payment(rng, customer, day, group) for day, group in sorted(groups.items())]


def _next_friday(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def _payment(rng: random.Random, customer: Customer, day: date, group: list[Settlement]) -> Payment:
    allocations = [Allocation(s.invoice.number, s.amount) for s in group]
    method = rng.choice(PAYMENT_METHODS)
    return Payment(
        external_id="", customer_external_id=customer.external_id,
        amount=sum((a.amount for a in allocations), Decimal(0)), currency=customer.currency,
        received_on=day, method=method, reference=f"{method.upper()}-{rng.randrange(10**7, 10**8)}",
        remittance_text=_remittance(rng, customer, allocations), allocations=allocations,
    )


def _remittance(rng: random.Random, customer: Customer, allocations: list[Allocation]) -> str | None:
    roll = rng.random()
    if roll < 0.6:
        return f"{customer.name}: payment for " + ", ".join(a.invoice_number for a in allocations)
    if roll < 0.8:
        return f"Remittance {customer.external_id} " + " ".join(f"{a.invoice_number}/{a.amount}" for a in allocations)
    return None
