"""Vectorised batch features: every invoice as of its issue day, as one numpy matrix.

The same features as ``features._vector`` (the row-by-row reference, used online and in
the leakage test), computed for all invoices at once. Every "known strictly before the
prediction day" question is a count or a sum over a customer's (or segment's) events with a
key below the query's key, so it becomes: sort the events once by (group, day), take
cumulative sums, and ``searchsorted`` each query (group, prediction day) with side="left"
(an event dated on the prediction day itself is never counted).

Money is summed in integer cents so that differences of cumulative sums are exact.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rapport_scoring.domain.facts import InvoiceFact, TouchFact
from rapport_scoring.domain.features import FEATURE_NAMES, PRIOR_WEIGHT, RECENT, Prior

SHIFT = np.int64(1 << 22)  # day ordinals (< 4.2 million) fit below one group's key range
_EPOCH = 719_163  # date(1970, 1, 1).toordinal()
NEVER = np.int64(1 << 40)  # "not settled": later than any real day


@dataclass
class InvoiceColumns:
    """The invoices as parallel arrays (days as proleptic ordinals; ``settled`` is NEVER when open)."""

    customer: np.ndarray  # int64 codes
    segment: np.ndarray  # int64 codes into ``segments``
    segments: list[str]
    issue: np.ndarray
    due: np.ndarray
    settled: np.ndarray
    cents: np.ndarray  # int64
    disputed: np.ndarray | None = None  # ordinal, NEVER when never disputed
    resolved: np.ndarray | None = None  # ordinal, NEVER when not resolved
    customer_index: dict = field(default_factory=dict)  # customer id -> code

    def __len__(self) -> int:
        return len(self.issue)

    @property
    def is_settled(self) -> np.ndarray:
        return self.settled < NEVER

    @classmethod
    def of(cls, invoices: Sequence[InvoiceFact]) -> InvoiceColumns:
        n = len(invoices)
        customers: dict = {}
        segments: dict[str, int] = {}
        customer = np.fromiter((customers.setdefault(i.customer_id, len(customers)) for i in invoices), np.int64, n)
        segment = np.fromiter((segments.setdefault(i.segment, len(segments)) for i in invoices), np.int64, n)
        issue = np.fromiter((i.issue_date.toordinal() for i in invoices), np.int64, n)
        due = np.fromiter((i.due_date.toordinal() for i in invoices), np.int64, n)
        settled = np.fromiter((NEVER if i.settled_on is None else i.settled_on.toordinal() for i in invoices),
                              np.int64, n)
        cents = np.rint(np.fromiter((i.amount for i in invoices), np.float64, n) * 100).astype(np.int64)
        disputed = np.fromiter((NEVER if i.disputed_on is None else i.disputed_on.toordinal() for i in invoices),
                               np.int64, n)
        resolved = np.fromiter((NEVER if i.dispute_resolved_on is None else i.dispute_resolved_on.toordinal()
                                for i in invoices), np.int64, n)
        return cls(customer, segment, list(segments), issue, due, settled, cents, disputed, resolved, customers)


@dataclass
class RowSet:
    """Training examples as arrays: features, labels and the baseline's inputs (NaN without history)."""

    x: np.ndarray
    issue: np.ndarray  # ordinal of the issue (= prediction) day
    settled: np.ndarray  # ordinal, NEVER when open
    late: np.ndarray  # int, meaningful only where settled
    days_to_pay: np.ndarray  # float, NaN when open
    days_late: np.ndarray  # float, NaN when open
    segment: np.ndarray
    segments: list[str]
    own_late_rate: np.ndarray
    own_mean_days: np.ndarray
    amount: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.issue)

    @property
    def is_settled(self) -> np.ndarray:
        return self.settled < NEVER

    def take(self, index) -> RowSet:
        return RowSet(self.x[index], self.issue[index], self.settled[index], self.late[index],
                      self.days_to_pay[index], self.days_late[index], self.segment[index], self.segments,
                      self.own_late_rate[index], self.own_mean_days[index],
                      None if self.amount is None else self.amount[index])


def segment_priors_of(rows: RowSet) -> dict[str, Prior]:
    """Every segment's prior from its settled rows (as ``training_set.segment_priors``)."""
    settled = rows.is_settled
    seg = rows.segment[settled]
    k = len(rows.segments)
    count = np.bincount(seg, minlength=k)
    late = np.bincount(seg, weights=rows.late[settled], minlength=k)
    days_late = np.bincount(seg, weights=rows.days_late[settled], minlength=k)
    to_pay = np.bincount(seg, weights=rows.days_to_pay[settled], minlength=k)
    return {name: Prior((late[s] + 1) / (count[s] + 2), days_late[s] / count[s], to_pay[s] / count[s])
            for s, name in enumerate(rows.segments) if count[s]}


class _Counter:
    """Counts and sums of events with key < query key, within the query's group."""

    def __init__(self, keys: np.ndarray, values: dict[str, np.ndarray] | None = None) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.order = order
        self.sums = {name: np.concatenate(([0], np.cumsum(v[order]))) for name, v in (values or {}).items()}

    def bounds(self, group_start: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(self.keys, group_start, "left"), np.searchsorted(self.keys, query, "left")

    def total(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        s = self.sums[name]
        return s[hi] - s[lo]


def build_matrix(invoices: Sequence[InvoiceFact] | InvoiceColumns, touches: Sequence[TouchFact] = ()) -> RowSet:
    """Features of every invoice as of its issue day, equal to ``training_set.build_rows``."""
    c = invoices if isinstance(invoices, InvoiceColumns) else InvoiceColumns.of(invoices)
    n = len(c)
    settled_mask = c.is_settled
    group = c.customer * SHIFT
    query = group + c.issue  # (customer, prediction day)

    # Issued strictly before the prediction day.
    issued = _Counter(group + c.issue, {"cents": c.cents})
    lo, hi = issued.bounds(group, query)
    n_issued = hi - lo
    issued_cents = issued.total("cents", lo, hi)
    first_issue = np.where(n_issued > 0, issued.keys[np.minimum(lo, n - 1)] - group, 0)

    # Settled strictly before it, in settlement order (ties by issue, then due date).
    s_idx = np.flatnonzero(settled_mask)
    s_order = np.lexsort((c.due[s_idx], c.issue[s_idx], c.settled[s_idx], c.customer[s_idx]))
    s_idx = s_idx[s_order]
    dl = c.settled[s_idx] - c.due[s_idx]
    dtp = c.settled[s_idx] - c.issue[s_idx]
    keys = c.customer[s_idx] * SHIFT + c.settled[s_idx]  # already sorted: the stable argsort keeps ties in order
    settled_ev = _Counter(keys, {"dl": dl, "dl2": dl * dl, "late": (dl > 0).astype(np.int64), "dtp": dtp,
                                 "cents": c.cents[s_idx]})
    lo, hi = settled_ev.bounds(group, query)
    n_settled = hi - lo
    has = n_settled > 0
    safe_n = np.maximum(n_settled, 1)
    s_dl = settled_ev.total("dl", lo, hi)
    s_dl2 = settled_ev.total("dl2", lo, hi)
    n_late = settled_ev.total("late", lo, hi)
    s_dtp = settled_ev.total("dtp", lo, hi)
    recent = settled_ev.total("dl", np.maximum(hi - RECENT, lo), hi)

    # The segment's prior from what it settled strictly before the prediction day.
    seg_keys = c.segment[s_idx] * SHIFT + c.settled[s_idx]
    seg_ev = _Counter(seg_keys, {"late": (dl > 0).astype(np.int64), "dl": dl, "dtp": dtp})
    seg_group = c.segment * SHIFT
    slo, shi = seg_ev.bounds(seg_group, seg_group + c.issue)
    seg_n = shi - slo
    seg_safe = np.maximum(seg_n, 1)
    default = Prior()
    prior_late = np.where(seg_n > 0, (seg_ev.total("late", slo, shi) + 1) / (seg_n + 2), default.late_rate)
    prior_dl = np.where(seg_n > 0, seg_ev.total("dl", slo, shi) / seg_safe, default.mean_days_late)
    prior_dtp = np.where(seg_n > 0, seg_ev.total("dtp", slo, shi) / seg_safe, default.mean_days_to_pay)

    # Overdue = issued and due before the day, not settled before it: counted on days in [start, end).
    start = np.maximum(c.issue, c.due) + 1
    end = np.where(settled_mask, c.settled + 1, NEVER)
    counts = end > start
    starts = _Counter(group[counts] + start[counts])
    ends_mask = counts & settled_mask
    ends = _Counter(group[ends_mask] + end[ends_mask])
    query_incl = query + 1  # key <= query
    overdue = (np.searchsorted(starts.keys, query_incl) - np.searchsorted(starts.keys, group)) - \
              (np.searchsorted(ends.keys, query_incl) - np.searchsorted(ends.keys, group))

    t_recent, t_engaged, t_total = _touch_features(c, touches, group, query)
    disputes_before, disputes_open = _dispute_features(c, group, query)

    mean_late = np.where(has, s_dl / safe_n, prior_dl)
    amount = c.cents / 100.0
    usual = np.where(n_issued > 0, issued_cents / np.maximum(n_issued, 1) / 100.0, amount)
    open_count = n_issued - n_settled
    open_cents = np.where(open_count > 0, issued_cents - settled_ev.total("cents", lo, hi), 0)
    variance = np.maximum(n_settled * s_dl2 - s_dl * s_dl, 0) / (safe_n * safe_n).astype(np.float64)
    day_of_month = ((c.issue - _EPOCH).astype("M8[D]") - (c.issue - _EPOCH).astype("M8[D]").astype("M8[M]")).astype(
        np.int64) + 1
    columns = {
        "n_settled": n_settled,
        "late_rate": (n_late + PRIOR_WEIGHT * prior_late) / (n_settled + PRIOR_WEIGHT),
        "mean_days_late": mean_late,
        "std_days_late": np.where(n_settled > 1, np.sqrt(variance), 0.0),
        "trend_days_late": np.where(n_settled >= RECENT, recent / RECENT - mean_late, 0.0),
        "mean_days_to_pay": np.where(has, s_dtp / safe_n, prior_dtp),
        "open_count": open_count,
        "log_open_balance": np.log1p(np.maximum(open_cents / 100.0, 0.0)),
        "overdue_count": overdue,
        "amount_ratio": np.divide(amount, usual, out=np.ones(n), where=usual > 0),
        "log_amount": np.log1p(np.maximum(amount, 0.0)),
        "terms_days": c.due - c.issue,
        "issue_day_of_month": day_of_month,
        "touches_30d": t_recent,
        "engage_rate": (t_engaged + 1.0) / (t_total + 2.0),
        "segment_late_rate": prior_late,
        "tenure_days": np.where(n_issued > 0, c.issue - first_issue, 0),
        "disputes_before": disputes_before,
        "open_disputes": disputes_open,
    }
    x = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
    for j, name in enumerate(FEATURE_NAMES):
        x[:, j] = columns[name]
    days_late = np.where(settled_mask, c.settled - c.due, np.nan).astype(np.float64)
    return RowSet(
        x=x, issue=c.issue, settled=c.settled, late=(np.nan_to_num(days_late) > 0).astype(np.int64),
        days_to_pay=np.where(settled_mask, c.settled - c.issue, np.nan).astype(np.float64), days_late=days_late,
        segment=c.segment, segments=c.segments,
        own_late_rate=np.where(has, n_late / safe_n, np.nan), own_mean_days=np.where(has, s_dtp / safe_n, np.nan),
        amount=amount,
    )


def _touch_features(c: InvoiceColumns, touches: Sequence[TouchFact], group: np.ndarray, query: np.ndarray):
    zeros = np.zeros(len(c), dtype=np.int64)
    known = [t for t in touches if t.customer_id in c.customer_index]
    if not known:
        return zeros, zeros, zeros
    m = len(known)
    t_cust = np.fromiter((c.customer_index[t.customer_id] for t in known), np.int64, m)
    t_day = np.fromiter((t.sent_on.toordinal() for t in known), np.int64, m)
    t_engaged = np.fromiter((t.engaged for t in known), np.int64, m)
    ev = _Counter(t_cust * SHIFT + t_day, {"engaged": t_engaged})
    lo, hi = ev.bounds(group, query)
    recent_lo = np.maximum(np.searchsorted(ev.keys, query - 30, "left"), lo)
    return hi - recent_lo, ev.total("engaged", lo, hi), hi - lo


def _dispute_features(c: InvoiceColumns, group: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disputes opened before the day, and of those the ones not resolved before it."""
    zeros = np.zeros(len(c), dtype=np.int64)
    if c.disputed is None or not (c.disputed < NEVER).any():
        return zeros, zeros
    opened_mask = c.disputed < NEVER
    opened = np.sort(group[opened_mask] + c.disputed[opened_mask])
    before = np.searchsorted(opened, query, "left") - np.searchsorted(opened, group, "left")
    resolved_mask = opened_mask & (c.resolved < NEVER)
    resolved = np.sort(group[resolved_mask] + c.resolved[resolved_mask])
    closed = np.searchsorted(resolved, query, "left") - np.searchsorted(resolved, group, "left")
    return before, before - closed
