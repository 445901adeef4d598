"""Rescore one customer and its open invoices; announce only what changed meaningfully."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from statistics import fmean
from uuid import UUID

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.contracts.score import AgingBuckets, CustomerScoredV1, InvoiceScoredV1
from rapport_shared.time import Clock

from rapport_scoring.adapters import repository, scores
from rapport_scoring.domain import channels, risk
from rapport_scoring.domain.facts import InvoiceFact
from rapport_scoring.domain.features import Prior, features_as_of, state_as_of
from rapport_scoring.domain.metrics import aging
from rapport_scoring.domain.model import PaymentModel
from rapport_scoring.service_layer.models_cache import ModelCache

SOURCE = "rapport.scoring"


class Rescorer:
    def __init__(self, outbox: Outbox, models: ModelCache, clock: Clock) -> None:
        self._outbox, self._models, self._clock = outbox, models, clock

    async def rescore(self, session: AsyncSession, tenant_id: UUID, customer_id: UUID, cause: Envelope | None) -> int:
        """Returns how many score events were written to the outbox."""
        customer = await repository.customer_row(session, customer_id) or {}
        segment = customer.get("segment") or "default"
        rows = await repository.customer_invoices(session, tenant_id, customer_id)
        if not rows:
            return 0
        history = [repository.invoice_fact(r, segment) for r in rows]
        touches = await repository.touch_facts(session, tenant_id, customer_id, limit=500)
        version, model = await self._models.get(session, tenant_id)
        prior = model.prior(segment) if model else Prior()
        today = self._clock.now().date()
        open_rows = [r for r in rows if r["open_amount"] > 0 and r["status"] in ("open", "partially_paid")]
        targets = [repository.invoice_fact(r, segment) for r in open_rows] + [_next_invoice(history, customer, today, segment)]
        x = np.asarray([features_as_of(history, touches, t, t.issue_date, prior) for t in targets])
        p_late, quantiles = _predict(model, x, targets)
        events = await self._invoices(session, tenant_id, customer_id, targets[:-1], p_late, quantiles, today, version)
        state = state_as_of(history, touches, today + timedelta(days=1))
        channel, hour = channels.recommend(touches, await self._models.tenant_touches(session, tenant_id))
        score = risk.CustomerScore(
            risk.risk_band(float(p_late[-1])), round(float(p_late[-1]), 4),
            risk.delinquency(state.days_late, sum(1 for r in open_rows if r["due_date"] < today)),
            round(fmean(state.days_to_pay), 2) if state.days_to_pay else None, channel, hour,
        )
        if risk.customer_changed(await scores.last_customer_score(session, customer_id), score):
            await scores.save_customer_score(session, tenant_id, customer_id, score, version, self._clock.now())
            events.append(CustomerScoredV1(customer_id=customer_id, model_version=version, scored_at=self._clock.now(),
                                           aging=_aging(open_rows, today), **asdict(score)))
        await scores.forget_settled(session, customer_id, [r["invoice_id"] for r in open_rows])
        await self._outbox.add_many(session, [self._wrap(e, tenant_id, customer_id, cause) for e in events])
        return len(events)

    async def _invoices(self, session, tenant_id, customer_id, targets, p_late, quantiles, today, version) -> list:
        previous = await scores.last_invoice_scores(session, [t.invoice_id for t in targets])
        events = []
        for i, target in enumerate(targets):
            new = _conditioned(target, float(p_late[i]), quantiles[i], today)
            if risk.invoice_changed(previous.get(target.invoice_id), new):
                await scores.save_invoice_score(session, tenant_id, customer_id, target.invoice_id, new, version, self._clock.now())
                events.append(InvoiceScoredV1(
                    invoice_id=target.invoice_id, customer_id=customer_id, late_probability=new.late_probability,
                    predicted_pay_date=new.p50, pay_date_p10=new.p10, pay_date_p90=new.p90,
                    model_version=version, scored_at=self._clock.now()))
        return events

    def _wrap(self, payload, tenant_id: UUID, customer_id: UUID, cause: Envelope | None) -> Envelope:
        return make_event(payload, source=SOURCE, tenant_id=tenant_id, customer_key=customer_id, causation=cause,
                          time=self._clock.now())


def _next_invoice(history: list[InvoiceFact], customer: dict, today: date, segment: str) -> InvoiceFact:
    """A typical invoice issued today: the customer-level risk is the risk of its next invoice."""
    amount = fmean(i.amount for i in history)
    terms = round(fmean(i.terms_days for i in history)) if history else (customer.get("payment_terms_days") or 30)
    return InvoiceFact("next", history[0].customer_id, today, today + timedelta(days=terms), amount, None, segment)


def _predict(model: PaymentModel | None, x: np.ndarray, targets: list[InvoiceFact]) -> tuple[np.ndarray, np.ndarray]:
    """Model predictions, or the rules of the walking skeleton when no model is trained yet."""
    if model is not None:
        return model.late_probability(x), model.days_to_pay(x)
    late_rate, mean_days_late = x[:, 1], x[:, 2]  # smoothed toward the segment prior
    terms = np.asarray([t.terms_days for t in targets], dtype=float)
    p50 = np.maximum(terms + mean_days_late, 0)
    return late_rate, np.column_stack([np.maximum(p50 - 14, 0), p50, p50 + 21])


def _conditioned(target: InvoiceFact, p_late: float, q: np.ndarray, today: date) -> risk.InvoiceScore:
    """Predictions made at issue, updated with what today tells: unpaid past due is late for sure."""
    if today > target.due_date:
        p_late = 1.0
    dates = sorted(max(target.issue_date + timedelta(days=int(round(d))), today) for d in q)
    return risk.InvoiceScore(round(p_late, 4), dates[0], dates[1], dates[2])


def _aging(open_rows: list[dict], today: date) -> list[AgingBuckets]:
    by_currency: dict[str, list] = defaultdict(list)
    for row in open_rows:
        by_currency[row["currency"]].append((row["due_date"], Decimal(row["open_amount"])))
    return [AgingBuckets(currency=c, **aging(items, today)) for c, items in sorted(by_currency.items())]
