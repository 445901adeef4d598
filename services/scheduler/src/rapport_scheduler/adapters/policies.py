"""Policy storage: every version is kept (audit); the newest active version is the one in force."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import orm
from rapport_scheduler.domain.policy import Policy, PolicySpec

p = orm.policies


def _policy(row) -> Policy:
    return Policy(policy_id=row.policy_id, version=row.version, spec=PolicySpec.model_validate(row.spec))


async def current(session: AsyncSession, tenant_id: UUID) -> list[Policy]:
    newest = (select(p.c.policy_id, func.max(p.c.version).label("v")).where(p.c.tenant_id == tenant_id)
              .group_by(p.c.policy_id).subquery())
    rows = await session.execute(
        select(p).join(newest, (p.c.policy_id == newest.c.policy_id) & (p.c.version == newest.c.v))
        .where(p.c.active).order_by(p.c.created_at)
    )
    return [_policy(r) for r in rows]


async def versions(session: AsyncSession, tenant_id: UUID, policy_id: UUID) -> list[tuple[Policy, datetime, bool, str | None]]:
    rows = await session.execute(select(p).where(p.c.tenant_id == tenant_id, p.c.policy_id == policy_id).order_by(p.c.version))
    return [(_policy(r), r.created_at, r.active, r.created_by) for r in rows]


async def lock_tenant(session: AsyncSession, tenant_id: UUID) -> None:
    """Policy writes of one tenant are serialised, so two overlapping policies cannot slip in together."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('scheduler.policies'), hashtext(:t))"),
                          {"t": str(tenant_id)})


async def save(session: AsyncSession, tenant_id: UUID, policy: Policy, now: datetime, author: str | None,
               active: bool = True) -> None:
    await session.execute(p.insert().values(
        policy_id=policy.policy_id, version=policy.version, tenant_id=tenant_id, name=policy.spec.name,
        priority=policy.spec.priority, spec=policy.spec.model_dump(mode="json"), active=active,
        created_at=now, created_by=author,
    ))


async def assign(session: AsyncSession, tenant_id: UUID, chosen: dict[UUID, Policy]) -> None:
    """Record which policy (and version) now governs each customer."""
    c = orm.customers
    if chosen:
        await session.execute(
            update(c).where(c.c.tenant_id == tenant_id, c.c.customer_id == bindparam("k_customer"))
            .values(policy_id=bindparam("k_policy"), policy_version=bindparam("k_version")),
            [{"k_customer": cid, "k_policy": pol.policy_id, "k_version": pol.version} for cid, pol in chosen.items()],
        )


async def customers_of(session: AsyncSession, tenant_id: UUID):
    c = orm.customers
    return (await session.execute(select(c).where(c.c.tenant_id == tenant_id))).all()


REPLAN_INVOICES = text("""
UPDATE scheduler.invoices i
SET policy_id = c.policy_id, policy_version = c.policy_version,
    next_step_on = i.due_date + ((SELECT min(o) FROM unnest(CAST(:offsets AS int[])) AS o
                                  WHERE o > coalesce(i.stage_offset, -1000000)) - CAST(:lead AS int))
FROM scheduler.customers c
WHERE c.tenant_id = :tenant AND c.policy_id = :policy AND i.tenant_id = c.tenant_id
  AND i.customer_id = c.customer_id AND i.status IN ('open', 'partially_paid')
""")

REPLAN_TIMERS = text("""
UPDATE scheduler.timers t
SET due_at = w.wake
FROM (SELECT i.tenant_id, i.customer_id,
             min(i.next_step_on)::timestamp AT TIME ZONE min(c.time_zone) AS wake
      FROM scheduler.invoices i
      JOIN scheduler.customers c ON c.tenant_id = i.tenant_id AND c.customer_id = i.customer_id
      WHERE c.tenant_id = :tenant AND c.policy_id = :policy AND i.status IN ('open', 'partially_paid')
      GROUP BY i.tenant_id, i.customer_id) w
WHERE t.tenant_id = w.tenant_id AND t.customer_id = w.customer_id
  AND w.wake IS NOT NULL AND (t.due_at IS NULL OR t.due_at > w.wake)
""")


async def replan(session: AsyncSession, tenant_id: UUID, policy: Policy) -> int:
    """Set-based re-plan of every open invoice under ``policy``: next step day and the customer's timer.

    The timer may fire early (acceleration days are subtracted as a lead); the engine then decides
    exactly and sets the precise wake-up, so nothing is ever late.
    """
    offsets = [s.offset_days for s in policy.spec.steps]
    lead = max((a.days for a in policy.spec.accelerations), default=0)
    args = {"tenant": tenant_id, "policy": policy.policy_id, "offsets": offsets, "lead": lead}
    result = await session.execute(REPLAN_INVOICES, args)
    await session.execute(REPLAN_TIMERS, {"tenant": tenant_id, "policy": policy.policy_id})
    return result.rowcount or 0
