"""Policy storage: every version is kept (audit); the newest active version is the one in force."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID as PG_UUID
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
    """Record which policy (and version) now governs each customer: one statement per policy."""
    c = orm.customers
    groups: dict[tuple[UUID, int], list[UUID]] = {}
    for customer_id, policy in chosen.items():
        groups.setdefault((policy.policy_id, policy.version), []).append(customer_id)
    for (policy_id, version), customer_ids in groups.items():
        await session.execute(
            update(c).where(c.c.tenant_id == tenant_id, c.c.customer_id == any_(bindparam("ids", customer_ids, type_=ARRAY(PG_UUID(as_uuid=True)))))
            .values(policy_id=policy_id, policy_version=version))
    if len(chosen) > 10_000:
        # A mass move makes the planner's statistics on policy_id stale; the re-plan join needs fresh ones.
        await session.execute(text("ANALYZE scheduler.customers"))


SEGMENTS = text("""
SELECT c.customer_id, c.country, c.region, c.industry, c.size, c.tags, c.risk_band, c.policy_override, c.policy_id,
       c.policy_version, coalesce(b.balance, 0) AS balance
FROM scheduler.customers c
LEFT JOIN (SELECT customer_id, sum(open_amount) AS balance FROM scheduler.invoices
           WHERE tenant_id = :t AND status IN ('open', 'partially_paid') GROUP BY customer_id) b
  ON b.customer_id = c.customer_id
WHERE c.tenant_id = :t
""")


async def segments_of(session: AsyncSession, tenant_id: UUID):
    """What policy selection needs of every customer of a tenant (segment attributes, open balance), in one query."""
    return (await session.execute(SEGMENTS, {"t": tenant_id})).all()


REPLAN = text("""
UPDATE scheduler.timers t
SET due_at = w.wake
FROM (SELECT i.tenant_id, i.customer_id,
             min(i.due_date + (CASE WHEN i.stage_offset IS NULL THEN CAST(:first AS int)  -- most invoices: no step yet
                                    ELSE (SELECT min(o) FROM unnest(CAST(:offsets AS int[])) AS o
                                          WHERE o > i.stage_offset) END - CAST(:lead AS int)))::timestamp
               AT TIME ZONE min(c.time_zone) AS wake
      FROM scheduler.invoices i
      JOIN scheduler.customers c ON c.tenant_id = i.tenant_id AND c.customer_id = i.customer_id
      WHERE c.tenant_id = :tenant AND c.policy_id = :policy AND i.status IN ('open', 'partially_paid')
        AND NOT i.disputed
      GROUP BY i.tenant_id, i.customer_id) w
WHERE t.tenant_id = w.tenant_id AND t.customer_id = w.customer_id
  AND w.wake IS NOT NULL AND (t.due_at IS NULL OR t.due_at > w.wake)
""")


async def replan(session: AsyncSession, tenant_id: UUID, policy: Policy) -> int:
    """Set-based re-plan of every open invoice under ``policy``, in one statement.

    Each invoice's next step day under the new version is computed in the database and folded
    into its customer's timer (the durable plan); invoice rows are not rewritten, so a million
    of them cost one scan. The timer may fire early (acceleration days are taken as a lead);
    the engine then decides exactly, records the policy version on what it touched, and sets
    the precise wake-up, so nothing is ever late.
    """
    offsets = [s.offset_days for s in policy.spec.steps]
    lead = max((a.days for a in policy.spec.accelerations), default=0)
    args = {"tenant": tenant_id, "policy": policy.policy_id, "offsets": offsets, "first": min(offsets), "lead": lead}
    return (await session.execute(REPLAN, args)).rowcount or 0
