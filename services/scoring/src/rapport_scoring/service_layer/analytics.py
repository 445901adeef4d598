"""Analytics use cases: SQL aggregates from the read model, formulas from ``domain.metrics``."""
from __future__ import annotations

import calendar
from datetime import date, timedelta
from uuid import UUID

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scoring.adapters import analytics_sql, model_registry, repository
from rapport_scoring.domain import forecast, metrics


def _num(value) -> float | None:
    return None if value is None else round(float(value), 2)


async def aging(session: AsyncSession, tenant_id: UUID, by: str, as_of: date, limit: int) -> dict:
    rows = await analytics_sql.aging(session, tenant_id, by, as_of, limit)
    items = [{"key": r["key"], "currency": r["currency"], **{b: format(r[b], "f") for b in (*metrics.BUCKETS, "total")}}
             for r in rows]
    return {"as_of": as_of.isoformat(), "by": by, "buckets": list(metrics.BUCKETS), "items": items}


def _months_newest_first(sales: dict[date, object], as_of: date) -> list[metrics.MonthSales]:
    """The current month counts only the days elapsed; earlier months all their days."""
    months, month = [], as_of.replace(day=1)
    for _ in range(13):
        days = as_of.day if month == as_of.replace(day=1) else calendar.monthrange(month.year, month.month)[1]
        months.append(metrics.MonthSales(days, sales.get(month, 0)))
        month = (month - timedelta(days=1)).replace(day=1)
    return months


async def dso(session: AsyncSession, tenant_id: UUID, as_of: date, period_days: int) -> dict:
    receivables = await analytics_sql.receivables(session, tenant_id, as_of)
    monthly, sales = await analytics_sql.monthly_sales(session, tenant_id, as_of, as_of - timedelta(days=period_days - 1))
    items = []
    for currency in sorted(set(receivables) | set(sales)):
        total, current = receivables.get(currency, (0, 0))
        period_sales = sales.get(currency, 0)
        standard = metrics.dso_standard(total, period_sales, period_days)
        best = metrics.best_possible_dso(current, period_sales, period_days)
        countback = metrics.dso_countback(total, _months_newest_first(monthly.get(currency, {}), as_of))
        items.append({
            "currency": currency, "receivables": format(total, "f"), "current_receivables": format(current, "f"),
            "credit_sales": format(period_sales, "f"), "dso_standard": _num(standard), "dso_countback": _num(countback),
            "best_possible_dso": _num(best), "average_days_delinquent": _num(metrics.average_days_delinquent(standard, best)),
        })
    return {"as_of": as_of.isoformat(), "period_days": period_days, "items": items}


async def cei(session: AsyncSession, tenant_id: UUID, as_of: date, period_days: int) -> dict:
    start = as_of - timedelta(days=period_days - 1)
    beginning = await analytics_sql.balance_before(session, tenant_id, start)
    ending = await analytics_sql.balance_before(session, tenant_id, as_of + timedelta(days=1))
    sales = await analytics_sql.sales_between(session, tenant_id, start, as_of)
    current = {c: cur for c, (_, cur) in (await analytics_sql.receivables(session, tenant_id, as_of)).items()}
    items = []
    for currency in sorted(set(ending) | set(sales)):
        begin, end, s, cur = (beginning.get(currency, 0), ending.get(currency, 0), sales.get(currency, 0), current.get(currency, 0))
        items.append({"currency": currency, "beginning_receivables": format(begin, "f"), "credit_sales": format(s, "f"),
                      "ending_receivables": format(end, "f"), "ending_current_receivables": format(cur, "f"),
                      "cei_percent": _num(metrics.collection_effectiveness(begin, s, end, cur))})
    return {"period_start": start.isoformat(), "period_end": as_of.isoformat(), "items": items}


async def days_to_pay(session: AsyncSession, tenant_id: UUID, limit: int) -> dict:
    rows = await analytics_sql.days_to_pay(session, tenant_id, limit)
    return {"items": [{**r, "customer_id": str(r["customer_id"])} for r in rows]}


async def cash_forecast(session: AsyncSession, tenant_id: UUID, as_of: date, currency: str, backtest_weeks: int) -> dict:
    """Scored invoices from the model's pay-date quantiles, the others by resampling days late."""
    cols = await repository.tenant_invoice_columns(session, tenant_id, currency)
    late_customer, late_days = forecast.lateness_at(cols, (as_of + timedelta(days=1)).toordinal())
    scored, amounts, unscored = [], [], []
    for c, due, amount, p10, p50, p90 in await analytics_sql.open_items(session, tenant_id, currency):
        if p50 is None:
            unscored.append((cols.customer_index.get(c, -1), (due - as_of).days, float(amount)))
        else:
            scored.append([(p10 - as_of).days, (p50 - as_of).days, (p90 - as_of).days])
            amounts.append(float(amount))
    card = await model_registry.latest_card(session, tenant_id, "production")
    model_backtest = (card.metrics.get("cash_forecast_backtest") if card else None) or {"weeks": [], "wape": None}
    # How fast invoices past their P90 really get paid, as the latest training measured it.
    tail = forecast.tail_scale_days(model_backtest.get("past_p90_weekly_hazard"))
    rest = np.asarray(unscored, dtype=np.float64).reshape(-1, 3)
    totals = forecast.simulate_quantiles(np.asarray(scored).reshape(-1, 3), np.asarray(amounts), seed=1, tail_scale=tail) + \
        forecast.simulate_arrays(rest[:, 0].astype(np.int64), rest[:, 1].astype(np.int64), rest[:, 2], late_customer, late_days)
    return {
        "as_of": as_of.isoformat(), "currency": currency,
        "method": "payment model P10/P50/P90 pay dates; customer days-late resampling for invoices not scored yet",
        "scored_invoices": len(scored), "resampled_invoices": len(unscored), **forecast.summarise(totals, as_of),
        "backtest": {**forecast.backtest_arrays(cols, as_of, backtest_weeks),
                     "method": "customer days-late resampling replayed from each week start (this currency)"},
        "model_backtest": {**model_backtest, "model_version": card.version if card else None},
    }
