"""Entry point of the generator: one seeded random stream, so one seed gives one company."""
from __future__ import annotations

import random
from datetime import date, datetime, timezone

from rapport_synth.customers import make_customers
from rapport_synth.ledger import make_invoices, make_payments
from rapport_synth.model import Company


def generate_company(seed: int = 7, customers: int = 50, months: int = 6, today: date | None = None) -> Company:
    """A tenant's customers, contacts, invoices and payments, all dated up to ``today``.

    ``today`` defaults to the current UTC date; invoices of the last weeks are not due
    yet, older ones are overdue or paid depending on each customer's behaviour.
    """
    if customers < 1 or months < 1:
        raise ValueError("customers and months must be at least 1")
    today = today or datetime.now(timezone.utc).date()
    rng = random.Random(seed)
    people = make_customers(rng, customers)
    invoices = make_invoices(rng, people, months, today)
    payments = make_payments(rng, people, invoices, today)
    return Company(seed=seed, today=today, customers=people, invoices=invoices, payments=payments)
