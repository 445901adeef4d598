"""13-week cash forecast by day and week with P10/P50/P90, and its backtest error (WAPE).

Model-based first: an open invoice the payment model has scored is paid on a day drawn from
its predicted P10/P50/P90 pay dates (a piecewise-linear quantile function through them,
conditioned on "not before today"). An invoice without a score yet falls back to resampling:
paid on ``max(as_of, due_date + L)``, L drawn from the customer's own past days-late (three
settled invoices or more) or else the tenant's. Simulating many draws gives a distribution
of each day's and week's total collections.

Two backtests: ``model_backtest`` (at training time, with the time-split evaluation model,
so every week it forecasts lies after the data that model learnt from) and ``backtest`` (the
resampling method replayed from past week starts with only what was known then).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from rapport_scoring.domain.facts import InvoiceFact
from rapport_scoring.domain.metrics import wape

HORIZON_DAYS = 91
SIMULATIONS = 200
MIN_OWN_HISTORY = 3


@dataclass(frozen=True)
class OpenItem:
    customer_id: Hashable
    due_date: date
    amount: float


def _samples(open_items: Sequence[OpenItem], lateness: dict[Hashable, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A flat pool of days-late samples with each invoice's (offset, count) into it."""
    pooled = [d for days in lateness.values() for d in days] or [0]
    pools, offsets, counts, cursor = [np.asarray(pooled)], [], [], len(pooled)
    chosen: dict[Hashable, tuple[int, int]] = {}
    for item in open_items:
        own = lateness.get(item.customer_id, [])
        if len(own) < MIN_OWN_HISTORY:
            offsets.append(0)
            counts.append(len(pooled))
            continue
        if item.customer_id not in chosen:
            chosen[item.customer_id] = (cursor, len(own))
            pools.append(np.asarray(own))
            cursor += len(own)
        offsets.append(chosen[item.customer_id][0])
        counts.append(chosen[item.customer_id][1])
    return np.concatenate(pools), np.asarray(offsets, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def simulate(open_items: Sequence[OpenItem], lateness: dict[Hashable, list[int]], as_of: date,
             *, horizon: int = HORIZON_DAYS, simulations: int = SIMULATIONS, seed: int = 0) -> np.ndarray:
    """Simulated collections, shape (simulations, horizon): column j is day ``as_of + j``."""
    totals = np.zeros((simulations, horizon))
    if not open_items:
        return totals
    pool, offsets, counts = _samples(open_items, lateness)
    due = np.asarray([(item.due_date - as_of).days for item in open_items])
    amounts = np.asarray([item.amount for item in open_items])
    rng = np.random.default_rng(seed)
    for s in range(simulations):
        late = pool[offsets + (rng.random(len(counts)) * counts).astype(np.int64)]
        day = np.maximum(due + late, 0)
        inside = day < horizon
        totals[s] = np.bincount(day[inside], weights=amounts[inside], minlength=horizon)
    return totals


_LN5 = float(np.log(5.0))


def _knots(q: np.ndarray, tail_scale: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """P10 <= P50 <= P90 made strictly increasing, and the scale (days) of the exponential tail beyond P90.

    Without a measured ``tail_scale`` the tail continues the P50-P90 spread (as if exponential from P50).
    """
    p10 = q[..., 0]
    p50 = np.maximum(q[..., 1], p10 + 1e-6)
    p90 = np.maximum(q[..., 2], p50 + 1e-6)
    scale = np.maximum((p90 - p50) / _LN5, 1.0) if tail_scale is None else np.full_like(p90, tail_scale)
    return p10, p50, p90, scale


def tail_scale_days(weekly_hazard: float | None) -> float | None:
    """The exponential tail's scale from the share of past-P90 invoices paid within a week."""
    if weekly_hazard is None:
        return None
    return 7.0 / -np.log(1.0 - min(max(weekly_hazard, 1e-4), 0.999))


def quantile_days(q: np.ndarray, u: np.ndarray, tail_scale: float | None = None) -> np.ndarray:
    """Inverse CDF through (0.1, P10), (0.5, P50), (0.9, P90): linear up to P90 (the lower slope continues
    to u = 0), then an exponential tail (a constant hazard for invoices still unpaid past their P90)."""
    p10, p50, p90, scale = _knots(q, tail_scale)
    low = np.where(u < 0.5, p50 - (0.5 - u) * (p50 - p10) / 0.4, p50 + (u - 0.5) * (p90 - p50) / 0.4)
    tail = p90 + scale * np.log(0.1 / np.maximum(1.0 - u, 1e-12))
    return np.where(u <= 0.9, low, tail)


def cdf(q: np.ndarray, t: np.ndarray | float, tail_scale: float | None = None) -> np.ndarray:
    """The share of that distribution paid by day ``t`` (inverse of ``quantile_days``)."""
    p10, p50, p90, scale = _knots(q, tail_scale)
    t = np.asarray(t, dtype=np.float64)
    below = np.where(t < p50, 0.1 + 0.4 * (t - p10) / (p50 - p10), 0.5 + 0.4 * (t - p50) / (p90 - p50))
    tail = 1.0 - 0.1 * np.exp(-np.maximum(t - p90, 0.0) / scale)
    return np.clip(np.where(t <= p90, below, tail), 0.0, 1.0)


def simulate_quantiles(offsets: np.ndarray, amounts: np.ndarray, *, horizon: int = HORIZON_DAYS,
                       simulations: int = SIMULATIONS, seed: int = 0, tail_scale: float | None = None) -> np.ndarray:
    """Collections simulated from each invoice's P10/P50/P90 pay day (days after the start, shape (n, 3)).

    Every invoice is still open at the start, so its pay day is drawn conditionally on "not before
    day 0": an invoice past its P90 gets the exponential tail's weekly chance, not all of its amount on
    day 0.
    """
    totals = np.zeros((simulations, horizon))
    if len(offsets) == 0:
        return totals
    offsets, amounts = np.asarray(offsets, dtype=np.float64), np.asarray(amounts, dtype=np.float64)
    paid_before = cdf(offsets, 0.0, tail_scale)
    rng = np.random.default_rng(seed)
    for s in range(simulations):
        u = paid_before + (1.0 - paid_before) * rng.random(len(offsets))
        day = np.maximum(np.rint(quantile_days(offsets, u, tail_scale)), 0).astype(np.int64)
        inside = day < horizon
        totals[s] = np.bincount(day[inside], weights=amounts[inside], minlength=horizon)
    return totals


def model_backtest(model, rows, first_start: int, *, weeks: int = 8, seed: int = 0) -> dict:
    """Forecast each of the last ``weeks`` full weeks (starting on or after ``first_start``) from its start.

    ``rows`` is a ``feature_matrix.RowSet`` (features as of each issue day, amounts, outcomes);
    ``model`` predicts days to pay. An invoice open at a week's start is paid, the model says, on
    issue + its P10/P50/P90, but not before that start; what was collected on those invoices in
    the week is the actual. Amounts of all currencies together (the model is currency-blind).
    """
    if len(rows) == 0:
        return {"weeks": [], "wape": None}
    settled = rows.is_settled
    end = int(max(rows.issue.max(), rows.settled[settled].max() if settled.any() else rows.issue.max())) + 1
    starts = [end - 7 * k for k in range(weeks, 0, -1) if end - 7 * k >= first_start]
    if not starts:
        return {"weeks": [], "wape": None}
    hazard = past_p90_weekly_hazard(model, rows, first_start)
    scale = tail_scale_days(hazard)
    candidates = np.flatnonzero((rows.issue < starts[-1]) & (rows.settled >= starts[0]))
    pay = rows.issue[candidates, None] + model.days_to_pay(rows.x[candidates]) if len(candidates) else np.zeros((0, 3))
    actual, predicted, out = [], [], []
    for start in starts:
        inside = (rows.issue[candidates] < start) & (rows.settled[candidates] >= start)
        amounts = rows.amount[candidates][inside]
        totals = simulate_quantiles(pay[inside] - start, amounts, horizon=7, seed=seed, tail_scale=scale)
        forecast = float(np.median(totals.sum(axis=1)))
        collected = float(amounts[rows.settled[candidates][inside] < start + 7].sum())
        actual.append(collected)
        predicted.append(forecast)
        out.append({"week_start": date.fromordinal(start).isoformat(), "actual": round(collected, 2),
                    "forecast_p50": round(forecast, 2), "open_invoices": int(inside.sum())})
    return {"weeks": out, "wape": wape(actual, predicted), "past_p90_weekly_hazard": hazard}


def past_p90_weekly_hazard(model, rows, before: int, *, weeks: int = 8) -> float | None:
    """Amount share of invoices open past their predicted P90 that were paid within the next 7 days.

    Measured at week starts whose following week ends by ``before`` (so a backtest after it stays out
    of sample). Invoices that are never paid (bad debt, stuck disputes) show up here: the model, learnt
    from settled invoices, cannot know them, and the tail would otherwise collect them within weeks.
    """
    checkpoints = [before - 7 * k for k in range(weeks, 0, -1)]
    candidates = np.flatnonzero((rows.issue < checkpoints[-1]) & (rows.settled >= checkpoints[0]))
    if not len(candidates):
        return None
    p90 = rows.issue[candidates] + model.days_to_pay(rows.x[candidates])[:, 2]
    paid = owed = 0.0
    for start in checkpoints:
        past = (rows.issue[candidates] < start) & (rows.settled[candidates] >= start) & (p90 < start)
        owed += float(rows.amount[candidates][past].sum())
        paid += float(rows.amount[candidates][past & (rows.settled[candidates] < start + 7)].sum())
    return paid / owed if owed > 0 else None


def summarise(totals: np.ndarray, as_of: date) -> dict[str, list[dict]]:
    weeks = totals[:, : (totals.shape[1] // 7) * 7].reshape(totals.shape[0], -1, 7).sum(axis=2)
    return {"daily": _bands(totals, as_of, 1), "weekly": _bands(weeks, as_of, 7)}


def _bands(totals: np.ndarray, as_of: date, step: int) -> list[dict]:
    p10, p50, p90 = np.percentile(totals, [10, 50, 90], axis=0)
    return [
        {"start": (as_of + timedelta(days=i * step)).isoformat(), "p10": round(float(a), 2),
         "p50": round(float(b), 2), "p90": round(float(c), 2)}
        for i, (a, b, c) in enumerate(zip(p10, p50, p90))
    ]


def state_at(invoices: Sequence[InvoiceFact], moment: date) -> tuple[list[OpenItem], dict[Hashable, list[int]]]:
    """Open items and each customer's days-late history as known at the start of ``moment``."""
    lateness: dict[Hashable, list[int]] = defaultdict(list)
    open_items = []
    for inv in invoices:
        if inv.issue_date >= moment:
            continue
        if inv.settled_on is not None and inv.settled_on < moment:
            lateness[inv.customer_id].append(inv.days_late())
        else:
            open_items.append(OpenItem(inv.customer_id, inv.due_date, inv.amount))
    return open_items, lateness


def backtest(invoices: Sequence[InvoiceFact], as_of: date, weeks: int = 8, *, seed: int = 0) -> dict:
    """Forecast each of the last ``weeks`` weeks from its start; compare with what was collected."""
    actual, forecast, rows = [], [], []
    for k in range(weeks, 0, -1):
        start = as_of - timedelta(days=7 * k)
        open_items, lateness = state_at(invoices, start)
        predicted = float(np.median(simulate(open_items, lateness, start, horizon=7, seed=seed).sum(axis=1)))
        collected = sum(inv.amount for inv in invoices
                        if inv.issue_date < start and inv.settled_on is not None and start <= inv.settled_on < start + timedelta(days=7))
        actual.append(collected)
        forecast.append(predicted)
        rows.append({"week_start": start.isoformat(), "actual": round(collected, 2), "forecast_p50": round(predicted, 2)})
    return {"weeks": rows, "wape": wape(actual, forecast)}


# Array forms of the resampling method (the analytics API at a million invoices): the same pools and
# draws as ``simulate`` / ``state_at`` / ``backtest`` without an object per invoice.


def _pools(late_customer: np.ndarray, late_days: np.ndarray, item_customer: np.ndarray):
    """Each item's (offset, count) into one flat pool: its customer's samples when 3+, else everyone's."""
    order = np.argsort(late_customer, kind="stable")
    own = late_days[order]
    pool = np.concatenate([own, late_days if len(late_days) else np.zeros(1, dtype=np.int64)])
    tenant_offset, tenant_count = len(own), max(len(late_days), 1)
    size = int(max(late_customer.max(initial=-1), item_customer.max(initial=-1))) + 1
    counts = np.bincount(late_customer, minlength=size) if len(late_customer) else np.zeros(size, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if size else np.zeros(0, dtype=np.int64)
    known = item_customer >= 0
    mine = np.where(known, counts[np.maximum(item_customer, 0)] if size else 0, 0)
    use_own = known & (mine >= MIN_OWN_HISTORY)
    offsets = np.where(use_own, starts[np.maximum(item_customer, 0)] if size else 0, tenant_offset)
    return pool, offsets.astype(np.int64), np.where(use_own, mine, tenant_count).astype(np.int64)


def simulate_arrays(item_customer: np.ndarray, due_offset: np.ndarray, amounts: np.ndarray,
                    late_customer: np.ndarray, late_days: np.ndarray, *, horizon: int = HORIZON_DAYS,
                    simulations: int = SIMULATIONS, seed: int = 0) -> np.ndarray:
    """``simulate`` over arrays: customer codes (-1 unknown), days from the start to the due date, amounts."""
    totals = np.zeros((simulations, horizon))
    if len(amounts) == 0:
        return totals
    pool, offsets, counts = _pools(late_customer, late_days, item_customer)
    rng = np.random.default_rng(seed)
    for s in range(simulations):
        late = pool[offsets + (rng.random(len(counts)) * counts).astype(np.int64)]
        day = np.maximum(due_offset + late, 0)
        inside = day < horizon
        totals[s] = np.bincount(day[inside], weights=amounts[inside], minlength=horizon)
    return totals


def lateness_at(cols, moment: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer codes, days late) of invoices settled before ``moment`` (an ordinal), as ``state_at``."""
    settled = (cols.issue < moment) & (cols.settled < moment)
    return cols.customer[settled], (cols.settled - cols.due)[settled]


def backtest_arrays(cols, as_of: date, weeks: int = 8, *, seed: int = 0) -> dict:
    """``backtest`` over ``feature_matrix.InvoiceColumns`` (amounts as invoiced)."""
    actual, forecast, rows = [], [], []
    amounts = cols.cents / 100.0
    for k in range(weeks, 0, -1):
        start_day = as_of - timedelta(days=7 * k)
        start = start_day.toordinal()
        open_ = (cols.issue < start) & (cols.settled >= start)
        late_customer, late_days = lateness_at(cols, start)
        totals = simulate_arrays(cols.customer[open_], cols.due[open_] - start, amounts[open_], late_customer, late_days,
                                 horizon=7, seed=seed)
        predicted = float(np.median(totals.sum(axis=1)))
        collected = float(amounts[open_ & (cols.settled < start + 7)].sum())
        actual.append(collected)
        forecast.append(predicted)
        rows.append({"week_start": start_day.isoformat(), "actual": round(collected, 2), "forecast_p50": round(predicted, 2)})
    return {"weeks": rows, "wape": wape(actual, forecast)}
