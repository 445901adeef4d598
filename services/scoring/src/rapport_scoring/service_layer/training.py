"""Training use cases: evaluate on a time-ordered split, fit, and register in the registry."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID

import numpy as np
from threadpoolctl import threadpool_limits
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_shared.observability import get_logger
from rapport_shared.time import Clock

from rapport_scoring.adapters import model_registry, repository
from rapport_scoring.domain import forecast
from rapport_scoring.domain.evaluation import evaluate, time_split
from rapport_scoring.domain.feature_matrix import build_matrix, segment_priors_of
from rapport_scoring.domain.model import PaymentModel, train

log = get_logger(__name__)
MIN_SETTLED = 50


@dataclass(frozen=True)
class TrainingResult:
    version: str
    model_id: int
    report: dict


def reliability(model: PaymentModel, rows) -> dict:
    """Predicted vs observed late share in ten probability bins (the calibration table)."""
    if not len(rows):
        return {"bins": []}
    p = model.late_probability(rows.x)
    late = rows.late
    edges = np.linspace(0, 1, 11)
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if inside.any():
            bins.append({"from": round(lo, 1), "to": round(hi, 1), "count": int(inside.sum()),
                         "mean_predicted": round(float(p[inside].mean()), 4), "observed": round(float(late[inside].mean()), 4)})
    return {"method": "isotonic on the newest 20% of the training window", "bins": bins}


def fit(facts, touches, *, production: bool, seed: int = 0, threads: int | None = None) -> tuple[PaymentModel, dict, dict]:
    """Evaluate on a time split; production models are then refit on every settled invoice.

    ``threads`` caps OpenMP in this (worker) thread: on a busy machine spinning threads cost more than they add.
    """
    with threadpool_limits(limits=threads):
        return _fit(facts, touches, production, seed)


def _fit(facts, touches, production: bool, seed: int) -> tuple[PaymentModel, dict, dict]:
    started = time.process_time()
    rows = build_matrix(facts, touches)
    features_s = time.process_time() - started
    split = time_split(rows)
    model = train(split.train, segment_priors_of(split.train), seed=seed)
    report = evaluate(model, split)
    calibration = reliability(model, split.test)
    started = time.process_time()
    # The evaluation model learnt only what settled before the cut-off: the weeks after it are out of sample.
    report["cash_forecast_backtest"] = {
        "method": "evaluation model's P10/P50/P90 pay dates, weekly collections of invoices open at each week start "
                  "(all currencies)", **forecast.model_backtest(model, rows, split.cutoff.toordinal(), seed=seed)}
    backtest_s = time.process_time() - started
    timings = {"features": round(features_s, 3), "invoices": len(rows),
               "evaluation_fit": {k: round(v, 3) for k, v in model.fit_seconds.items()},
               "forecast_backtest": round(backtest_s, 3)}
    if production:
        model = train(rows, segment_priors_of(rows), seed=seed)
        timings["production_fit"] = {k: round(v, 3) for k, v in model.fit_seconds.items()}
    report["cpu_seconds"] = timings  # process CPU time of each step (the card shows what a retrain costs)
    return model, report, calibration


async def train_tenant(sessions: async_sessionmaker[AsyncSession], tenant_id: UUID, clock: Clock,
                       *, kind: str = "production", threads: int | None = None) -> TrainingResult | None:
    async with sessions() as session:
        facts = await repository.tenant_invoice_columns(session, tenant_id)
        touches = await repository.touch_facts(session, tenant_id, None, limit=1_000_000)
    if int(facts.is_settled.sum()) < MIN_SETTLED:
        return None
    # Training is CPU-bound: keep the event loop (and the trainer's signals) responsive.
    model, report, calibration = await asyncio.to_thread(fit, facts, touches, production=kind == "production", threads=threads)
    now = clock.now()
    version = f"{kind[:4]}-{now:%Y%m%dT%H%M%S%f}-{str(tenant_id)[:8]}"
    async with sessions.begin() as session:
        model_id = await model_registry.register(session, tenant_id, version, kind, model, report, calibration, now)
    log.info("model registered", version=version, rows=model.trained_rows, auc=report["model"]["auc"])
    return TrainingResult(version, model_id, report)


async def retrain_all(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> list[TrainingResult]:
    async with sessions() as session:
        tenant_ids = await repository.tenants(session)
    results = []
    for tenant_id in tenant_ids:
        result = await train_tenant(sessions, tenant_id, clock)
        if result:
            results.append(result)
    return results
