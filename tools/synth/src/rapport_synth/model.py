"""The synthetic company as plain data: customers, contacts, invoices, payments."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum


class Behaviour(str, Enum):
    """How a customer pays; drives the payment simulation."""

    PROMPT = "prompt"                # pays around the due date
    HABITUAL_LATE = "habitual_late"  # reliably 10-20 days late
    CHRONIC_LATE = "chronic_late"    # very late, sometimes not at all
    ONE_TIME_SLIP = "one_time_slip"  # prompt, except one invoice paid much later
    DISPUTER = "disputer"            # disputes some invoices and holds them back
    PARTIAL = "partial"              # pays in instalments


@dataclass(frozen=True)
class Collector:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class Contact:
    external_id: str
    name: str
    email: str
    phone: str
    role: str
    preferred_channel: str
    locale: str
    time_zone: str
    is_primary: bool


@dataclass
class Customer:
    external_id: str
    name: str
    behaviour: Behaviour
    currency: str
    country: str
    time_zone: str
    locale: str
    payment_terms_days: int
    size: str
    industry: str
    region: str
    tags: list[str]
    collector: Collector
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class Invoice:
    number: str
    customer_external_id: str
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal       # total, tax included
    tax_amount: Decimal
    po_number: str | None
    terms: str
    disputed: bool = False  # the behaviour holds it back (the customer would dispute it)


@dataclass(frozen=True)
class Allocation:
    invoice_number: str
    amount: Decimal


@dataclass
class Payment:
    external_id: str
    customer_external_id: str
    amount: Decimal
    currency: str
    received_on: date
    method: str
    reference: str
    remittance_text: str | None
    allocations: list[Allocation]


@dataclass
class Company:
    """Everything one generated tenant holds, in load order."""

    seed: int
    today: date
    customers: list[Customer]
    invoices: list[Invoice]
    payments: list[Payment]

    def open_amount(self, number: str) -> Decimal:
        """What is still owed on one invoice after the generated payments."""
        invoice = next(i for i in self.invoices if i.number == number)
        paid = sum((a.amount for p in self.payments for a in p.allocations if a.invoice_number == number), Decimal(0))
        return invoice.amount - paid
