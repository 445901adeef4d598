"""The model registry: versioned, serialised models with their metrics and calibration."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import joblib
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scoring.adapters.orm import models
from rapport_scoring.domain.model import PaymentModel


@dataclass(frozen=True)
class RegisteredModel:
    id: int
    version: str
    kind: str
    created_at: datetime
    trained_rows: int
    metrics: dict
    calibration: dict


def _dump(model: PaymentModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


async def register(session: AsyncSession, tenant_id: UUID, version: str, kind: str, model: PaymentModel,
                   metrics: dict, calibration: dict, created_at: datetime) -> int:
    result = await session.execute(insert(models).values(
        tenant_id=tenant_id, version=version, kind=kind, created_at=created_at, trained_rows=model.trained_rows,
        metrics=metrics, calibration=calibration, artifact=_dump(model),
    ).returning(models.c.id))
    return result.scalar_one()


def _card_columns():
    return (models.c.id, models.c.version, models.c.kind, models.c.created_at, models.c.trained_rows,
            models.c.metrics, models.c.calibration)


async def latest_card(session: AsyncSession, tenant_id: UUID, kind: str | None = None) -> RegisteredModel | None:
    query = select(*_card_columns()).where(models.c.tenant_id == tenant_id)
    if kind:
        query = query.where(models.c.kind == kind)
    row = (await session.execute(query.order_by(models.c.id.desc()).limit(1))).first()
    return RegisteredModel(*row) if row else None


async def latest_id(session: AsyncSession, tenant_id: UUID) -> int | None:
    return (await session.execute(
        select(models.c.id).where(models.c.tenant_id == tenant_id).order_by(models.c.id.desc()).limit(1)
    )).scalar_one_or_none()


async def load(session: AsyncSession, model_id: int) -> tuple[str, PaymentModel]:
    row = (await session.execute(select(models.c.version, models.c.artifact).where(models.c.id == model_id))).one()
    return row[0], joblib.load(io.BytesIO(row[1]))
