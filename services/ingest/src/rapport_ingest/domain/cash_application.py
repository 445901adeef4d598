"""Cash application: which open invoices an incoming payment pays, and by which rule.

Rules, in order: explicit allocations; invoice numbers found in the remittance text; one
open invoice whose open amount equals the payment; then the tenant's policy (oldest due
first, or leave unapplied for a person to review). Currencies are never converted: an
invoice in another currency is not a candidate, and asking for it is flagged for review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from rapport_ingest.domain.errors import Invalid

ZERO = Decimal(0)
Policy = Literal["oldest_first", "unapplied"]


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: UUID
    number: str
    currency: str
    open_amount: Decimal
    due_date: date


@dataclass(frozen=True)
class Requested:
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True)
class Incoming:
    amount: Decimal
    currency: str
    remittance_text: str | None = None
    requested: tuple[Requested, ...] = ()


@dataclass
class Match:
    allocations: list[tuple[OpenInvoice, Decimal]] = field(default_factory=list)
    rule: str | None = None
    review_reason: str | None = None

    def applied(self) -> Decimal:
        return sum((a for _, a in self.allocations), ZERO)

    @property
    def needs_review(self) -> bool:
        """A person must look: nothing was applied and there is a reason, or a currency did not match."""
        return ((self.review_reason is not None and not self.allocations)
                or bool(self.review_reason and self.review_reason.startswith("currency mismatch")))


def unapplied_amount(payment: Incoming, match: Match) -> Decimal:
    return payment.amount - match.applied()


def match_payment(payment: Incoming, open_invoices: list[OpenInvoice], policy: Policy) -> Match:
    by_due = sorted(open_invoices, key=lambda i: (i.due_date, i.number))
    if payment.requested:
        match = _explicit(payment, {i.number: i for i in open_invoices})
    else:
        same_currency = [i for i in by_due if i.currency == payment.currency]
        match = _first_rule(payment, same_currency, policy)
        if not match.allocations and len(same_currency) < len(by_due):
            match.review_reason = f"open invoices are in another currency than the payment ({payment.currency})"
    leftover = unapplied_amount(payment, match)
    if leftover > 0 and match.allocations and not match.review_reason:
        match.review_reason = f"overpayment: {leftover} {payment.currency} kept as unapplied credit"
    return match


def _first_rule(payment: Incoming, candidates: list[OpenInvoice], policy: Policy) -> Match:
    for rule in (_remittance, _exact_amount):
        match = rule(payment, candidates)
        if match.allocations:
            return match
    if policy == "oldest_first" and candidates:
        return _spread(payment.amount, candidates, "oldest_first")
    return Match(review_reason="no rule matched; left unapplied for review")


def _explicit(payment: Incoming, by_number: dict[str, OpenInvoice]) -> Match:
    total = sum((r.amount for r in payment.requested), ZERO)
    if total > payment.amount:
        raise Invalid(f"allocations total {total} exceeds the payment amount {payment.amount}", field="allocations")
    match = Match(rule="explicit")
    for index, want in enumerate(payment.requested):
        invoice = by_number.get(want.invoice_number)
        where = f"allocations.{index}.invoice_number"
        if invoice is None:
            raise Invalid(f"no open invoice {want.invoice_number!r} for this customer", field=where)
        if invoice.currency != payment.currency:
            match.review_reason = (f"currency mismatch: payment in {payment.currency}, invoice "
                                   f"{invoice.number} in {invoice.currency}; not converted")
            continue
        if want.amount > invoice.open_amount:
            raise Invalid(f"{want.amount} exceeds the open amount {invoice.open_amount}", field=f"allocations.{index}.amount")
        match.allocations.append((invoice, want.amount))
    return match


def _remittance(payment: Incoming, candidates: list[OpenInvoice]) -> Match:
    text = payment.remittance_text or ""
    tokens = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|[A-Za-z0-9]", text.upper()))
    named = [i for i in candidates if i.number.upper() in tokens]
    return _spread(payment.amount, named, "remittance") if named else Match()


def _exact_amount(payment: Incoming, candidates: list[OpenInvoice]) -> Match:
    # Candidates are oldest first, so several equal amounts resolve to the oldest one.
    for invoice in candidates:
        if invoice.open_amount == payment.amount:
            return Match(allocations=[(invoice, payment.amount)], rule="exact_amount")
    return Match()


def _spread(amount: Decimal, invoices: list[OpenInvoice], rule: str) -> Match:
    match = Match(rule=rule)
    left = amount
    for invoice in invoices:
        if left <= 0:
            break
        take = min(left, invoice.open_amount)
        match.allocations.append((invoice, take))
        left -= take
    return match
