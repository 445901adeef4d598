"""A customer's portfolio as the engine sees it, and the small SQL helpers around it (all SQL here)."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scheduler.adapters import orm
from rapport_scheduler.domain.model import Customer, Invoice, Plan

Key = tuple[UUID, UUID]


class Portfolio:
    def __init__(self, tenant_id: UUID, customer: Customer, policy_override: UUID | None) -> None:
        self.tenant_id = tenant_id
        self.customer = customer
        self.policy_override = policy_override
        self.invoices: list[Invoice] = []
        self.plans: list[Plan] = []


def plan_instalments_json(plan: Plan) -> list[dict[str, Any]]:
    return [{"due_date": i.due_date.isoformat(), "amount": format(i.amount, "f"), "reminded": i.reminded}
            for i in plan.instalments]


async def insert_rows(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(table.insert(), rows)
