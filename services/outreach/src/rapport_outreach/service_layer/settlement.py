"""A collector settles an uncertain message: it was sent after all, or it was not and may go once more.

Nothing is ever resent on a guess; this is the only way an uncertain message leaves that state,
and each settlement is recorded with who made it.
"""
from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts.outreach import MessageSentV1, MessageSettledV1

from rapport_outreach.adapters import repository
from rapport_outreach.domain.errors import Conflict, NotFound
from rapport_outreach.domain.model import State
from rapport_outreach.service_layer.events import emit, outcome_fields
from rapport_outreach.service_layer.handlers import Deps

RESOLUTIONS = ("sent", "not_sent")


async def settle(session: AsyncSession, deps: Deps, tenant_id: UUID, message_id: UUID, resolution: str,
                 settled_by: str, note: str | None):  # noqa: ANN201 - the updated Row
    row = await repository.get_message(session, message_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"no message {message_id}", "message_id")
    now = deps.clock.now()
    if resolution == "sent":
        updated = await repository.settle_uncertain(session, message_id, State.SENT, now, sent_at=now)
    else:  # one more send is allowed: back in the queue, due now
        updated = await repository.settle_uncertain(session, message_id, State.QUEUED, now, next_attempt_at=now)
    if updated is None:  # checked in the UPDATE itself, so two collectors cannot both settle it
        raise Conflict(f"message is {row.state}; only an uncertain message can be settled", "state")
    detail = f"{resolution} by {settled_by}" + (f": {note}" if note else "")
    await repository.add_event(session, row.id, row.tenant_id, f"settled_{resolution}", now, detail=detail)
    fields = outcome_fields(updated, now)
    await _emit(session, deps, updated, MessageSettledV1(**fields, resolution=resolution, settled_by=settled_by,
                                                         note=note))
    if resolution == "sent":
        await _emit(session, deps, updated, MessageSentV1(**{**fields, "detail": detail}, subject=updated.subject,
                                                          preview=updated.body_text[:160]))
    return updated


async def _emit(session: AsyncSession, deps: Deps, row, payload) -> None:  # noqa: ANN001
    await emit(session, deps.outbox, payload, tenant_id=row.tenant_id, customer_id=row.customer_id,
               correlation_id=row.correlation_id, time=payload.occurred_at)
