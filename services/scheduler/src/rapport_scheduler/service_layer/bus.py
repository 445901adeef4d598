"""The scheduler's message bus: one event in, read model updated, the customer made due for the ticker."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.time import Clock, SystemClock

from rapport_scheduler.adapters import readmodel
from rapport_scheduler.service_layer import ledger_handlers, request_handlers
from rapport_scheduler.service_layer.context import Ctx
from rapport_scheduler.service_layer.planning import Planner

HANDLERS = {**ledger_handlers.HANDLERS, **request_handlers.HANDLERS}
# Events that never change what the customer should hear (their handlers return False): no decision for them.
NO_DECISION = ledger_handlers.NO_DECISION | request_handlers.NO_DECISION


class EventBus:
    def __init__(self, outbox: Outbox, planner: Planner, base_clock: Clock | None = None) -> None:
        self.outbox = outbox
        self.planner = planner
        self.base_clock = base_clock or SystemClock()

    async def handle(self, session: AsyncSession, envelope: Envelope) -> None:
        """Runs inside the consumer's transaction (inbox row + state + outbox commit together)."""
        payload = envelope.payload()
        handler = HANDLERS.get(type(payload))
        customer_id: UUID | None = getattr(payload, "customer_id", None)
        if handler is None or customer_id is None:
            return  # an event the scheduler has no use for (opens, clicks, magic links...)
        # The decision itself is the ticker's: it claims every due customer in batches, re-reads the
        # committed state under the same row lock and emits with this event as the cause.
        wall = self.base_clock.now()
        if type(payload) in ledger_handlers.INVOICE_STATES:  # the hottest event: one statement
            offset, applied = await readmodel.invoice_event(session, envelope.tenant_id, payload, wall, envelope.id,
                                                            envelope.correlation_id)
            if applied and ledger_handlers.is_settled(payload):
                await ledger_handlers.settled(Ctx(session, self.outbox, envelope.tenant_id, wall + offset, envelope),
                                              payload)
            return
        due = type(payload) not in NO_DECISION
        now = wall + await readmodel.claim_customer(session, envelope.tenant_id, customer_id, wall, due, envelope.id,
                                                    envelope.correlation_id)
        ctx = Ctx(session, self.outbox, envelope.tenant_id, now, envelope)
        if await handler(ctx, payload) and not due:  # a handler that asks for a decision its type rarely needs
            await readmodel.mark_due(session, envelope.tenant_id, customer_id, now, envelope.id,
                                     envelope.correlation_id)
