"""A synthetic ledger with known payment structure, for tests, benchmarks and demos.

Each customer has its own habit (mean days late), and on top of it every invoice is
later when it is large for that customer, and some customers drift later over time.
A customer's own late rate sees the habit but not the other two effects, so a model
that beats that baseline here has learnt something real.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from rapport_scoring.domain.facts import InvoiceFact

START = date(2024, 1, 1)


def ledger(customers: int, invoices_per_customer: int, *, seed: int = 0, span_days: int = 720,
           open_share: float = 0.0, today: date | None = None) -> list[InvoiceFact]:
    rng = np.random.default_rng(seed)
    n = customers * invoices_per_customer
    cust = np.repeat(np.arange(customers), invoices_per_customer)
    habit = rng.normal(2, 10, customers)[cust]
    drift = np.where(rng.random(customers) < 0.3, rng.uniform(10, 25, customers), 0.0)[cust]
    usual = np.exp(rng.normal(7, 1, customers))[cust]
    ratio = np.exp(rng.normal(0, 0.7, n))
    terms = rng.choice([14, 30, 45], customers)[cust]
    issue = np.sort(rng.integers(0, span_days, (customers, invoices_per_customer)), axis=1).ravel()
    progress = issue / span_days
    late = habit + 15 * (ratio > 2) - 6 * (ratio < 0.5) + drift * progress + rng.normal(0, 4, n)
    start = today - timedelta(days=span_days) if today else START
    facts = [_fact(i, int(cust[i]), start, int(issue[i]), int(terms[i]), float(usual[i] * ratio[i]), float(late[i]),
                   rng.random() < open_share * progress[i] ** 4)
             for i in range(n)]
    # Relative to a real today, a payment dated in the future has not happened yet.
    return [f if today is None or f.settled_on is None or f.settled_on <= today else _unsettled(f) for f in facts]


def _unsettled(fact: InvoiceFact) -> InvoiceFact:
    return InvoiceFact(fact.invoice_id, fact.customer_id, fact.issue_date, fact.due_date, fact.amount, None, fact.segment)


def _fact(i: int, customer: int, start: date, issue_day: int, terms: int, amount: float, late: float,
          still_open: bool) -> InvoiceFact:
    issue = start + timedelta(days=issue_day)
    due = issue + timedelta(days=terms)
    settled = None if still_open else max(due + timedelta(days=round(late)), issue)
    return InvoiceFact(f"inv-{i}", f"cust-{customer}", issue, due, round(amount, 2), settled,
                       "large" if customer % 3 == 0 else "small")
