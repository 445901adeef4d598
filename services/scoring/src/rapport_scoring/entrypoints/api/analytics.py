"""``/v1/analytics/...`` and ``/v1/model-card``: translate HTTP into the analytics use cases."""
from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.web import ApiError

from rapport_scoring.adapters import model_registry
from rapport_scoring.entrypoints.api.deps import session, tenant
from rapport_scoring.service_layer import analytics

router = APIRouter()


def _today(request: Request, as_of: date | None) -> date:
    return as_of or request.app.state.clock.now().date()


@router.get("/v1/analytics/aging")
async def aging(request: Request, by: Literal["tenant", "customer", "collector", "currency"] = "tenant",
                as_of: date | None = None, limit: int = Query(100, ge=1, le=10_000),
                tenant_id: UUID = Depends(tenant), s: AsyncSession = Depends(session)) -> dict:
    return await analytics.aging(s, tenant_id, by, _today(request, as_of), limit)


@router.get("/v1/analytics/dso")
async def dso(request: Request, period_days: int = Query(90, ge=1, le=730), as_of: date | None = None,
              tenant_id: UUID = Depends(tenant), s: AsyncSession = Depends(session)) -> dict:
    return await analytics.dso(s, tenant_id, _today(request, as_of), period_days)


@router.get("/v1/analytics/cei")
async def cei(request: Request, period_days: int = Query(30, ge=1, le=730), as_of: date | None = None,
              tenant_id: UUID = Depends(tenant), s: AsyncSession = Depends(session)) -> dict:
    return await analytics.cei(s, tenant_id, _today(request, as_of), period_days)


@router.get("/v1/analytics/days-to-pay")
async def days_to_pay(limit: int = Query(100, ge=1, le=10_000),
                      tenant_id: UUID = Depends(tenant), s: AsyncSession = Depends(session)) -> dict:
    return await analytics.days_to_pay(s, tenant_id, limit)


@router.get("/v1/analytics/cash-forecast")
async def cash_forecast(request: Request, currency: str = Query(..., pattern=r"^[A-Z]{3}$"),
                        as_of: date | None = None, backtest_weeks: int = Query(8, ge=1, le=52),
                        tenant_id: UUID = Depends(tenant), s: AsyncSession = Depends(session)) -> dict:
    return await analytics.cash_forecast(s, tenant_id, _today(request, as_of), currency, backtest_weeks)


@router.get("/v1/model-card")
async def model_card(kind: Literal["production", "evaluation"] | None = None,
                     tenant_id: UUID = Depends(tenant), s: AsyncSession = Depends(session)) -> dict:
    card = await model_registry.latest_card(s, tenant_id, kind)
    if card is None:
        raise ApiError(404, "no model trained for this tenant yet", field="X-Tenant-Id")
    return {"version": card.version, "kind": card.kind, "created_at": card.created_at.isoformat(),
            "trained_rows": card.trained_rows, "metrics": card.metrics, "calibration": card.calibration}
