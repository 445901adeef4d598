"""Policy changes: validate, version, record, then re-plan every customer the change affects."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import policies as store
from rapport_scheduler.domain.errors import NotFound
from rapport_scheduler.domain.model import Customer
from rapport_scheduler.domain.policy import DEFAULT_POLICY, DEFAULT_POLICY_ID, Policy, PolicySpec, check_overlaps, check_spec
from rapport_scheduler.domain.selection import select_policy


async def create(session: AsyncSession, tenant_id: UUID, spec: PolicySpec, now: datetime, author: str | None) -> Policy:
    return await _save(session, tenant_id, uuid4(), spec, now, author, new=True)


async def update(session: AsyncSession, tenant_id: UUID, policy_id: UUID, spec: PolicySpec, now: datetime,
                 author: str | None) -> Policy:
    return await _save(session, tenant_id, policy_id, spec, now, author, new=False)


async def _save(session: AsyncSession, tenant_id: UUID, policy_id: UUID, spec: PolicySpec, now: datetime,
                author: str | None, *, new: bool) -> Policy:
    check_spec(spec)
    await store.lock_tenant(session, tenant_id)
    current = {p.policy_id: p for p in await store.current(session, tenant_id)}
    history = [] if new else await store.versions(session, tenant_id, policy_id)
    if not new and not history:
        raise NotFound(f"no policy {policy_id}", "policy_id")
    check_overlaps(spec, {pid: p.spec for pid, p in current.items()}, own_id=policy_id)
    policy = Policy(policy_id=policy_id, version=(history[-1][0].version + 1) if history else 1, spec=spec)
    await store.save(session, tenant_id, policy, now, author)
    await replan_tenant(session, tenant_id, now)
    return policy


async def retire(session: AsyncSession, tenant_id: UUID, policy_id: UUID, now: datetime, author: str | None) -> Policy:
    await store.lock_tenant(session, tenant_id)
    history = await store.versions(session, tenant_id, policy_id)
    if not history or not history[-1][2]:
        raise NotFound(f"no active policy {policy_id}", "policy_id")
    last = history[-1][0]
    retired = Policy(policy_id=policy_id, version=last.version + 1, spec=last.spec)
    await store.save(session, tenant_id, retired, now, author, active=False)
    await replan_tenant(session, tenant_id, now)
    return retired


async def replan_tenant(session: AsyncSession, tenant_id: UUID, now: datetime) -> int:
    """Re-assign customers to policies, then re-plan their open invoices in set-based statements."""
    policies = await store.current(session, tenant_id)
    chosen: dict[UUID, Policy] = {}
    for row in await store.segments_of(session, tenant_id):
        customer = Customer(row.customer_id, "", country=row.country, region=row.region, industry=row.industry,
                            size=row.size, tags=list(row.tags or []), risk_band=row.risk_band)
        policy = select_policy(policies, customer, row.balance, row.policy_override)
        if (row.policy_id, row.policy_version) != (policy.policy_id, policy.version):
            chosen[row.customer_id] = policy
    await store.assign(session, tenant_id, chosen)
    replanned = 0
    for policy in [DEFAULT_POLICY, *policies]:
        replanned += await store.replan(session, tenant_id, policy)
    return replanned


async def get(session: AsyncSession, tenant_id: UUID, policy_id: UUID):
    if policy_id == DEFAULT_POLICY_ID:
        return [(DEFAULT_POLICY, None, True, "system")]
    history = await store.versions(session, tenant_id, policy_id)
    if not history:
        raise NotFound(f"no policy {policy_id}", "policy_id")
    return history
