"""Building outreach events and writing them to the outbox, in the caller's transaction."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.base import EventPayload
from rapport_shared.contracts.envelope import Envelope, make_event

SOURCE = "outreach"


async def emit(session: AsyncSession, outbox: Outbox, payload: EventPayload, *, tenant_id: UUID,
               customer_id: UUID, correlation_id: UUID | None = None, causation: Envelope | None = None,
               time: datetime | None = None) -> Envelope:
    event = envelope(payload, tenant_id=tenant_id, customer_id=customer_id, correlation_id=correlation_id,
                     causation=causation, time=time)
    await outbox.add(session, event)
    return event


def envelope(payload: EventPayload, *, tenant_id: UUID, customer_id: UUID, correlation_id: UUID | None = None,
             causation: Envelope | None = None, time: datetime | None = None) -> Envelope:
    return make_event(payload, source=SOURCE, tenant_id=tenant_id, customer_key=customer_id,
                      correlation_id=correlation_id, causation=causation, time=time,
                      subject=str(getattr(payload, "message_id", "") or customer_id))


def outcome_fields(row, occurred_at: datetime) -> dict:  # noqa: ANN001 - a messages Row
    """The fields every MessageOutcome shares, taken from a stored message."""
    return {"message_id": row.id, "touchpoint_id": row.touchpoint_id, "customer_id": row.customer_id,
            "contact_id": row.contact_id, "channel": row.channel, "provider": row.provider,
            "occurred_at": occurred_at, "invoice_ids": [UUID(str(i)) for i in row.invoice_ids or []],
            "template_key": row.template_key}
