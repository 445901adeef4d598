"""Tenant settings: quiet hours, validated like a policy's, used by the engine from the next decision on."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import settings as store
from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.policy import QuietHours, check_quiet_hours


async def quiet_hours(session: AsyncSession, tenant_id: UUID) -> tuple[QuietHours, str]:
    found = await store.quiet_hours(session, tenant_id)
    if found is None:
        default = SendCalendar()
        return QuietHours(start=default.closes, end=default.opens), "default"
    return QuietHours(start=found[0], end=found[1]), "tenant"


async def set_quiet_hours(session: AsyncSession, tenant_id: UUID, quiet: QuietHours, now: datetime,
                          author: str | None) -> None:
    check_quiet_hours(quiet, "quiet_hours")
    await store.set_quiet_hours(session, tenant_id, quiet.start, quiet.end, now, author)
