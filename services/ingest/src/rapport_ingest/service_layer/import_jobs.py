"""Creating import jobs and reporting on them (the worker that runs them is in ``imports``)."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.ids import new_id

from rapport_ingest.adapters import jobs
from rapport_ingest.domain.presets import preset_for
from rapport_ingest.domain.rows import count_rows


def check_preset(preset: str, kind: str, mapping: dict | None) -> None:
    preset_for(preset, kind, dict(mapping) if mapping else None)


async def create(session: AsyncSession, tenant_id: UUID, *, kind: str, fmt: str, preset: str,
                 mapping: dict | None, content: bytes) -> UUID:
    job_id = new_id()
    total = count_rows(content, fmt)
    await jobs.add(session, {"id": job_id, "tenant_id": tenant_id, "kind": kind, "format": fmt, "preset": preset,
                             "mapping": mapping, "content": content, "rows_total": total})
    return job_id


async def status(session: AsyncSession, tenant_id: UUID, job_id: UUID) -> dict[str, Any] | None:
    job = await jobs.get(session, tenant_id, job_id)
    if job is None:
        return None
    return {"job_id": str(job.id), "status": job.status, "kind": job.kind, "format": job.format,
            "preset": job.preset, "rows_total": job.rows_total, "rows_done": job.rows_done,
            "rows_failed": job.rows_failed, "detail": job.detail,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


async def errors(session: AsyncSession, tenant_id: UUID, job_id: UUID, limit: int, offset: int) -> list[dict] | None:
    if await jobs.get(session, tenant_id, job_id) is None:
        return None
    return [{"row": e.row, "field": e.field, "reason": e.reason} for e in await jobs.errors(session, job_id, limit, offset)]
