"""Operator actions: per-tenant plan limits and the contacts' audit trail."""
from __future__ import annotations

from uuid import UUID

from rapport_portal.adapters import portal_state
from rapport_portal.domain.errors import Invalid
from rapport_portal.domain.plans import HARD_MAX_DAYS, HARD_MAX_INSTALMENTS
from rapport_portal.service_layer.context import Portal


async def set_plan_limits(portal: Portal, tenant_id: UUID, max_instalments: int, max_days: int) -> None:
    if max_instalments > HARD_MAX_INSTALMENTS:
        raise Invalid(f"at most {HARD_MAX_INSTALMENTS}", "max_instalments")
    if max_days > HARD_MAX_DAYS:
        raise Invalid(f"at most {HARD_MAX_DAYS}", "max_days")
    async with portal.unit_of_work() as session:
        await portal_state.set_plan_limits(session, tenant_id, max_instalments, max_days)


async def audit(portal: Portal, tenant_id: UUID, customer_id: UUID, limit: int) -> list[dict]:
    async with portal.sessions() as session:
        return await portal_state.audit_of(session, tenant_id, customer_id, limit)
