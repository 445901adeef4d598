"""What a handler works with: the transaction, the tenant, the event that caused it, and "now"."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.envelope import Envelope

from rapport_scheduler.adapters import worklist as work_store
from rapport_scheduler.domain.engine import PlannedTask
from rapport_scheduler.domain.worklist import expected_value
from rapport_scheduler.service_layer import messages
from rapport_scheduler.service_layer.planning import timeline_row


@dataclass
class Ctx:
    session: AsyncSession
    outbox: Outbox
    tenant_id: UUID
    now: datetime
    cause: Envelope | None = None
    author: str | None = None

    async def emit(self, payload, customer_id: UUID) -> None:
        await self.outbox.add(self.session, messages.event(payload, self.tenant_id, customer_id, self.now, self.cause))

    async def note(self, customer_id: UUID, kind: str, summary: str, ref: UUID | None = None) -> None:
        await work_store.add_timeline(self.session, timeline_row(self.tenant_id, customer_id, self.now, kind, summary,
                                                                 ref, self.author))

    async def task(self, customer_id: UUID, kind: str, reason: str, invoice_ids: list[UUID] | None = None,
                   subject: tuple[str, UUID] | None = None) -> UUID:
        """A worklist task, ranked by expected value, announced on the ``task`` topic.

        ``subject`` names the one thing the task is about, as ``(kind, id)``: ``("message", message_id)``
        for an uncertain send, ``("plan", plan_id)`` for a plan to review.
        """
        customer = await work_store.get_customer(self.session, self.tenant_id, customer_id)
        balance, age = (await work_store.balances(self.session, self.tenant_id, [customer_id], self.now.date())).get(
            customer_id, (0, 0))
        ranking = expected_value(balance or 0, customer.risk_band if customer else None, age,
                                 customer.broken_promises if customer else 0)
        assignee = customer.collector if customer else None
        task_id = uuid4()
        await work_store.add_task(self.session, {
            "task_id": task_id, "tenant_id": self.tenant_id, "customer_id": customer_id, "kind": kind,
            "reason": reason, "invoice_ids": [str(i) for i in invoice_ids or []], "status": "open",
            "assignee": assignee, "created_at": self.now,
            "subject_kind": subject[0] if subject else None, "subject_id": subject[1] if subject else None})
        planned = PlannedTask(kind, reason, list(invoice_ids or []))
        await self.emit(messages.task_created(task_id, customer_id, planned, assignee, ranking.score, subject), customer_id)
        await self.note(customer_id, "task", f"{kind}: {reason}", task_id)
        return task_id

    async def case(self, customer_id: UUID, kind: str, status: str, invoice_ids: list[UUID],
                   case_id: UUID | None = None, **extra) -> UUID:
        """A dispute/promise case; one the portal asked for takes the request's id, which the portal matches on."""
        case_id = case_id or uuid4()
        await work_store.open_case(self.session, {
            "case_id": case_id, "tenant_id": self.tenant_id, "customer_id": customer_id, "kind": kind,
            "status": status, "invoice_ids": [str(i) for i in invoice_ids], "created_at": self.now,
            "promised_date": extra.get("promised_date"), "amount": extra.get("amount"), "currency": extra.get("currency")})
        await self.emit(messages.case_changed(case_id, customer_id, kind, status, invoice_ids, **extra), customer_id)
        return case_id
