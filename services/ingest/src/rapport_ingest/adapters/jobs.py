"""SQL of import jobs and their error reports."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from rapport_ingest.adapters.orm import import_errors, import_jobs


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(import_jobs).values(status="queued", **values))


async def get(session: AsyncSession, tenant_id: UUID, job_id: UUID) -> Row | None:
    columns = [c for c in import_jobs.c if c.name != "content"]
    return (await session.execute(select(*columns).where(
        import_jobs.c.tenant_id == tenant_id, import_jobs.c.id == job_id))).first()


async def errors(session: AsyncSession, job_id: UUID, limit: int, offset: int) -> Sequence[Row]:
    return (await session.execute(select(import_errors.c.row, import_errors.c.field, import_errors.c.reason)
                                  .where(import_errors.c.job_id == job_id)
                                  .order_by(import_errors.c.row, import_errors.c.id).limit(limit).offset(offset))).all()


async def claim(lock_conn: AsyncConnection) -> Row | None:
    """Take the oldest unfinished job no live worker holds.

    The session-level advisory lock lives as long as the worker's connection, so the job of
    a process that died is picked up again (and resumes after its last committed chunk).
    """
    candidates = (await lock_conn.execute(
        select(import_jobs.c.id).where(import_jobs.c.status.in_(("queued", "running")))
        .order_by(import_jobs.c.created_at).limit(20))).scalars().all()
    await lock_conn.commit()
    for job_id in candidates:
        locked = (await lock_conn.execute(text(_LOCK), {"id": str(job_id)})).scalar_one()
        await lock_conn.commit()
        if locked:
            row = (await lock_conn.execute(
                update(import_jobs).where(import_jobs.c.id == job_id, import_jobs.c.status.in_(("queued", "running")))
                .values(status="running").returning(*import_jobs.c))).first()
            await lock_conn.commit()
            if row is not None:
                return row
            await release(lock_conn, job_id)
    return None


_LOCK = "SELECT pg_try_advisory_lock(hashtext('rapport.ingest.import'), hashtext(:id))"


async def release(lock_conn: AsyncConnection, job_id: UUID) -> None:
    await lock_conn.execute(text("SELECT pg_advisory_unlock(hashtext('rapport.ingest.import'), hashtext(:id))"),
                            {"id": str(job_id)})
    await lock_conn.commit()


async def finish(engine: AsyncEngine, job_id: UUID, status: str, detail: str | None) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(import_jobs).where(import_jobs.c.id == job_id)
                           .values(status=status, detail=detail, finished_at=func.now(), content=None))
