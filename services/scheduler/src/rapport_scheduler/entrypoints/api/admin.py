"""``/v1/admin``: the shared clock (time travel for the demo and end-to-end tests)."""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, model_validator

from rapport_scheduler.adapters import clock as db_clock
from rapport_scheduler.entrypoints.api.deps import require_admin

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class Advance(BaseModel):
    days: float = Field(0, ge=0, le=3650)
    hours: float = Field(0, ge=0, le=24 * 3650)

    @model_validator(mode="after")
    def _something(self) -> "Advance":
        if self.days == 0 and self.hours == 0:
            raise ValueError("give days or hours greater than 0")
        return self


async def _report(session, base) -> dict:
    offset = await db_clock.read_offset(session)
    return {"now": (base.now() + offset).isoformat(), "offset_seconds": offset.total_seconds()}


@router.get("/clock")
async def get_clock(request: Request) -> dict:
    async with request.app.state.sessions() as session:
        return await _report(session, request.app.state.base_clock)


@router.post("/clock/advance")
async def advance_clock(body: Advance, request: Request) -> dict:
    """Move the scheduler's time forward; the ticker then plays out whatever fell due."""
    async with request.app.state.sessions() as session, session.begin():
        await db_clock.advance(session, timedelta(days=body.days, hours=body.hours))
        return await _report(session, request.app.state.base_clock)
