"""Batch construction of (features, labels) for training: one pass over events in time order.

Each invoice is predicted on its issue day from what was known strictly before that day,
exactly as ``features.features_as_of`` would compute it (the leakage test checks both agree).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rapport_scoring.domain.facts import InvoiceFact, TouchFact
from rapport_scoring.domain.features import CustomerState, Prior, _vector

_PREDICT, _ISSUE, _SETTLE, _TOUCH, _DISPUTE, _RESOLVE = range(6)


@dataclass
class SegmentTally:
    settled: int = 0
    late: int = 0
    days_late_sum: int = 0
    days_to_pay_sum: int = 0

    def add(self, invoice: InvoiceFact) -> None:
        self.settled += 1
        self.late += 1 if invoice.is_late() else 0
        self.days_late_sum += invoice.days_late()
        self.days_to_pay_sum += invoice.days_to_pay()

    def prior(self) -> Prior:
        if not self.settled:
            return Prior()
        return Prior((self.late + 1) / (self.settled + 2), self.days_late_sum / self.settled,
                     self.days_to_pay_sum / self.settled)


def segment_prior_as_of(invoices: Sequence[InvoiceFact], segment: str, as_of: date) -> Prior:
    """The segment's prior from invoices it settled strictly before ``as_of``."""
    tally = SegmentTally()
    for invoice in invoices:
        if invoice.segment == segment and invoice.settled_on is not None and invoice.settled_on < as_of:
            tally.add(invoice)
    return tally.prior()


def segment_priors(invoices: Sequence[InvoiceFact]) -> dict[str, Prior]:
    """Every segment's prior from all its settled invoices (stored with a trained model)."""
    tallies: dict[str, SegmentTally] = defaultdict(SegmentTally)
    for invoice in invoices:
        if invoice.settled_on is not None:
            tallies[invoice.segment].add(invoice)
    return {segment: tally.prior() for segment, tally in tallies.items()}


@dataclass
class Row:
    """One training example; ``own_*`` are the baseline's inputs (None without history)."""

    invoice: InvoiceFact
    features: list[float]
    own_late_rate: float | None = None
    own_mean_days: float | None = None


def _row(state: CustomerState, invoice: InvoiceFact, day: date, prior: Prior) -> Row:
    n = len(state.days_late)
    own_rate = sum(1 for d in state.days_late if d > 0) / n if n else None
    own_days = sum(state.days_to_pay) / n if n else None
    return Row(invoice, _vector(state, invoice, day, prior), own_rate, own_days)


def _events(invoices: Sequence[InvoiceFact], touches: Sequence[TouchFact]) -> list[tuple]:
    events: list[tuple] = []
    for index, inv in enumerate(invoices):
        events.append((inv.issue_date, _PREDICT, inv.issue_date, inv.due_date, index))
        events.append((inv.issue_date, _ISSUE, inv.issue_date, inv.due_date, index))
        if inv.settled_on is not None:
            events.append((inv.settled_on, _SETTLE, inv.issue_date, inv.due_date, index))
        if inv.disputed_on is not None:
            events.append((inv.disputed_on, _DISPUTE, inv.issue_date, inv.due_date, index))
        if inv.dispute_resolved_on is not None:
            events.append((inv.dispute_resolved_on, _RESOLVE, inv.issue_date, inv.due_date, index))
    for index, touch in enumerate(touches):
        events.append((touch.sent_on, _TOUCH, touch.sent_on, touch.sent_on, index))
    events.sort()
    return events


def build_rows(invoices: Sequence[InvoiceFact], touches: Sequence[TouchFact] = ()) -> list[Row]:
    """Features of every invoice as of its issue day (labels come from ``Row.invoice``)."""
    states: dict = defaultdict(CustomerState)
    tallies: dict[str, SegmentTally] = defaultdict(SegmentTally)
    rows: list[Row] = []
    for day, phase, _, _, index in _events(invoices, touches):
        if phase == _TOUCH:
            touch = touches[index]
            states[touch.customer_id].touches.append(touch)
            continue
        inv = invoices[index]
        state = states[inv.customer_id]
        if phase == _PREDICT:
            rows.append(_row(state, inv, day, tallies[inv.segment].prior()))
        elif phase == _ISSUE:
            _issue(state, inv)
        elif phase == _DISPUTE:
            state.disputes_opened += 1
            state.disputes_open += 1
        elif phase == _RESOLVE:
            state.disputes_open -= 1
        else:
            state.open.pop(inv.invoice_id, None)
            state.days_late.append(inv.days_late())
            state.days_to_pay.append(inv.days_to_pay())
            tallies[inv.segment].add(inv)
    return rows


def _issue(state: CustomerState, invoice: InvoiceFact) -> None:
    state.issued_amount_sum += invoice.amount
    state.issued_count += 1
    state.first_issue = state.first_issue or invoice.issue_date
    state.open[invoice.invoice_id] = (invoice.due_date, invoice.amount)
