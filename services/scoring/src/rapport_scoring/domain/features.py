"""Features of an invoice as of a prediction day: only what was known strictly before that day.

Two ways to compute the same thing: ``features_as_of`` filters a customer's full history
(used online, and as the reference in the leakage test); ``HistoryAccumulator`` walks events
in time order for fast batch training. Both feed ``_vector`` so they cannot drift apart.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import fmean, pstdev

from rapport_scoring.domain.facts import InvoiceFact, TouchFact

FEATURE_NAMES = (
    "n_settled", "late_rate", "mean_days_late", "std_days_late", "trend_days_late",
    "mean_days_to_pay", "open_count", "log_open_balance", "overdue_count", "amount_ratio",
    "log_amount", "terms_days", "issue_day_of_month", "touches_30d", "engage_rate",
    "segment_late_rate", "tenure_days", "disputes_before", "open_disputes",
)
RECENT = 3
PRIOR_WEIGHT = 2.0


@dataclass(frozen=True)
class Prior:
    """What a customer with no history is assumed to look like (from its segment)."""

    late_rate: float = 0.5
    mean_days_late: float = 0.0
    mean_days_to_pay: float = 30.0


@dataclass
class CustomerState:
    """A customer's history as known at one moment."""

    days_late: list[int] = field(default_factory=list)  # in settlement order
    days_to_pay: list[int] = field(default_factory=list)
    issued_amount_sum: float = 0.0
    issued_count: int = 0
    first_issue: date | None = None
    open: dict = field(default_factory=dict)  # invoice_id -> (due_date, amount)
    touches: list[TouchFact] = field(default_factory=list)
    disputes_opened: int = 0  # the customer's invoices disputed before the moment
    disputes_open: int = 0  # of which not yet resolved


def _vector(state: CustomerState, target: InvoiceFact, as_of: date, prior: Prior) -> list[float]:
    n = len(state.days_late)
    late_count = sum(1 for d in state.days_late if d > 0)
    mean_late = fmean(state.days_late) if n else prior.mean_days_late
    recent = state.days_late[-RECENT:]
    usual_amount = state.issued_amount_sum / state.issued_count if state.issued_count else target.amount
    open_balance = sum(amount for _, amount in state.open.values())
    recent_touches = [t for t in state.touches if t.sent_on >= as_of - timedelta(days=30)]
    engaged = sum(1 for t in state.touches if t.engaged)
    return [
        float(n),
        (late_count + PRIOR_WEIGHT * prior.late_rate) / (n + PRIOR_WEIGHT),
        mean_late,
        pstdev(state.days_late) if n > 1 else 0.0,
        (fmean(recent) - mean_late) if n >= RECENT else 0.0,
        fmean(state.days_to_pay) if n else prior.mean_days_to_pay,
        float(len(state.open)),
        math.log1p(max(open_balance, 0.0)),
        float(sum(1 for due, _ in state.open.values() if due < as_of)),
        target.amount / usual_amount if usual_amount > 0 else 1.0,
        math.log1p(max(target.amount, 0.0)),
        float(target.terms_days),
        float(target.issue_date.day),
        float(len(recent_touches)),
        (engaged + 1.0) / (len(state.touches) + 2.0),
        prior.late_rate,
        float((as_of - state.first_issue).days) if state.first_issue else 0.0,
        float(state.disputes_opened),
        float(state.disputes_open),
    ]


def state_as_of(history: Iterable[InvoiceFact], touches: Iterable[TouchFact], as_of: date) -> CustomerState:
    """The customer's state from everything dated strictly before ``as_of``."""
    state = CustomerState()
    issued = sorted((i for i in history if i.issue_date < as_of), key=lambda i: i.issue_date)
    for invoice in issued:
        state.issued_amount_sum += invoice.amount
        state.issued_count += 1
        state.first_issue = state.first_issue or invoice.issue_date
        if invoice.settled_on is None or invoice.settled_on >= as_of:
            state.open[invoice.invoice_id] = (invoice.due_date, invoice.amount)
    settled = sorted((i for i in issued if i.settled_on is not None and i.settled_on < as_of),
                     key=lambda i: (i.settled_on, i.issue_date, i.due_date))
    state.days_late = [i.days_late() for i in settled]
    state.days_to_pay = [i.days_to_pay() for i in settled]
    state.touches = [t for t in touches if t.sent_on < as_of]
    for invoice in issued:
        if invoice.disputed_on is not None and invoice.disputed_on < as_of:
            state.disputes_opened += 1
            resolved = invoice.dispute_resolved_on
            state.disputes_open += 0 if resolved is not None and resolved < as_of else 1
    return state


def features_as_of(
    history: Sequence[InvoiceFact], touches: Sequence[TouchFact], target: InvoiceFact, as_of: date, prior: Prior
) -> list[float]:
    """Features of ``target`` predicted on ``as_of`` from the customer's ``history``."""
    return _vector(state_as_of(history, touches, as_of), target, as_of, prior)
