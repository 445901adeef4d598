"""Which collector looks after a customer: the first rule (by priority) that matches."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import worklist as work_store


async def collector_for(session: AsyncSession, tenant_id: UUID, region: str | None, size: str | None,
                        industry: str | None) -> tuple[str | None, str | None]:
    for rule in await work_store.rules(session, tenant_id):
        if all(want is None or want == have for want, have in
               ((rule.region, region), (rule.size, size), (rule.industry, industry))):
            return rule.collector, rule.collector_email
    return None, None
