"""Rescore one customer and its open invoices; announce only what changed meaningfully."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
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

from rapport_scoring.adapters import repository, scores, snapshot
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

    async def rescore(self, session: AsyncSession, tenant_id: UUID, customer_id: UUID, cause: Envelope | None,
                      touched: Collection[UUID] = ()) -> int:
        """Returns how many score events were written to the outbox.

        An open invoice's features are fixed at its issue day, so only the invoices this event
        touched (or never scored by the current model) go through the model again; the others
        are re-conditioned on today from their stored score, which gives the same result.
        """
        snap = await snapshot.load(session, tenant_id, customer_id)
        if not snap.invoices:
            return 0
        touches = await repository.touch_facts(session, tenant_id, customer_id, limit=500) if snap.has_touches else []
        version, model = await self._models.get(session, tenant_id)
        today, now = self._clock.now().date(), self._clock.now()
        history = [repository.invoice_fact(r, snap.segment) for r in snap.invoices]
        open_rows = [r for r in snap.invoices if r["open_amount"] > 0 and r["status"] in ("open", "partially_paid")]
        stale = [r for r in open_rows if _needs_model(r["invoice_id"], snap, set(touched), version)]
        targets = [repository.invoice_fact(r, snap.segment) for r in stale] + [_next_invoice(history, snap, today)]
        prior = model.prior(snap.segment) if model else Prior()
        x = np.asarray([features_as_of(history, touches, t, t.issue_date, prior) for t in targets])
        p_late, quantiles = _predict(model, x, targets)
        fresh = {t.invoice_id: _conditioned(t, float(p_late[i]), quantiles[i], today) for i, t in enumerate(targets[:-1])}
        moved = _moved(open_rows, snap, fresh, today)
        await scores.save_invoice_scores(session, tenant_id, customer_id, moved, version, now)
        events: list = [InvoiceScoredV1(
            invoice_id=i, customer_id=customer_id, late_probability=s.late_probability, predicted_pay_date=s.p50,
            pay_date_p10=s.p10, pay_date_p90=s.p90, model_version=version, scored_at=now) for i, s in moved]
        score = await self._customer_score(session, tenant_id, history, touches, open_rows, float(p_late[-1]), today)
        if risk.customer_changed(snap.last_score, score):
            await scores.save_customer_score(session, tenant_id, customer_id, score, version, now)
            events.append(CustomerScoredV1(customer_id=customer_id, model_version=version, scored_at=now,
                                           aging=_aging(open_rows, today), **asdict(score)))
        open_ids = {r["invoice_id"] for r in open_rows}
        if any(i not in open_ids for i in snap.invoice_scores):
            await scores.forget_settled(session, customer_id, list(open_ids))
        await self._outbox.add_many(session, [self._wrap(e, tenant_id, customer_id, cause) for e in events])
        return len(events)

    async def _customer_score(self, session, tenant_id, history, touches, open_rows, p_next: float,
                              today: date) -> risk.CustomerScore:
        state = state_as_of(history, touches, today + timedelta(days=1))
        channel, hour = channels.recommend(touches, await self._models.tenant_touches(session, tenant_id))
        return risk.CustomerScore(
            risk.risk_band(p_next), round(p_next, 4),
            risk.delinquency(state.days_late, sum(1 for r in open_rows if r["due_date"] < today)),
            round(fmean(state.days_to_pay), 2) if state.days_to_pay else None, channel, hour,
        )

    def _wrap(self, payload, tenant_id: UUID, customer_id: UUID, cause: Envelope | None) -> Envelope:
        return make_event(payload, source=SOURCE, tenant_id=tenant_id, customer_key=customer_id, causation=cause,
                          time=self._clock.now())


def _needs_model(invoice_id: UUID, snap: snapshot.CustomerSnapshot, touched: set, version: str) -> bool:
    stored = snap.invoice_scores.get(invoice_id)
    return invoice_id in touched or stored is None or stored[1] != version


def _moved(open_rows: list[dict], snap: snapshot.CustomerSnapshot, fresh: dict, today: date) -> list:
    """(invoice id, score) of every open invoice whose score changed meaningfully since announced."""
    moved = []
    for row in open_rows:
        stored = snap.invoice_scores.get(row["invoice_id"])
        new = fresh.get(row["invoice_id"]) or _reconditioned(stored[0], row["due_date"], today)
        if risk.invoice_changed(stored[0] if stored else None, new):
            moved.append((row["invoice_id"], new))
    return moved


def _reconditioned(stored: risk.InvoiceScore, due_date: date, today: date) -> risk.InvoiceScore:
    """What ``_conditioned`` gives today for an invoice scored earlier by the same model."""
    p_late = 1.0 if today > due_date else stored.late_probability
    p10, p50, p90 = sorted(max(d, today) for d in (stored.p10, stored.p50, stored.p90))
    return risk.InvoiceScore(p_late, p10, p50, p90)


def _next_invoice(history: list[InvoiceFact], snap: snapshot.CustomerSnapshot, today: date) -> InvoiceFact:
    """A typical invoice issued today: the customer-level risk is the risk of its next invoice."""
    amount = fmean(i.amount for i in history)
    terms = round(fmean(i.terms_days for i in history)) if history else (snap.payment_terms_days or 30)
    return InvoiceFact("next", history[0].customer_id, today, today + timedelta(days=terms), amount, None, snap.segment)


def _predict(model: PaymentModel | None, x: np.ndarray, targets: list[InvoiceFact]) -> tuple[np.ndarray, np.ndarray]:
    """Model predictions, or the rules of the walking skeleton when no model is trained yet."""
    if model is not None:
        return model.predict(x)
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
