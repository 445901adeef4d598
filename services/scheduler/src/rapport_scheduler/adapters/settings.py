"""Per-tenant settings of the scheduler (quiet hours)."""
from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import orm

s = orm.tenant_settings


async def quiet_hours(session: AsyncSession, tenant_id: UUID) -> tuple[time, time] | None:
    row = (await session.execute(select(s.c.quiet_start, s.c.quiet_end).where(s.c.tenant_id == tenant_id))).first()
    return (row.quiet_start, row.quiet_end) if row and row.quiet_start is not None else None


async def set_quiet_hours(session: AsyncSession, tenant_id: UUID, start: time, end: time, now: datetime,
                          author: str | None) -> None:
    statement = insert(s).values(tenant_id=tenant_id, quiet_start=start, quiet_end=end, updated_at=now,
                                 updated_by=author)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[s.c.tenant_id],
        set_={"quiet_start": start, "quiet_end": end, "updated_at": now, "updated_by": author}))
