"""What providers tell us after a send: delivery, engagement, bounces, opt-outs and replies."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts.outreach import (
    ChannelSuppressedV1, MessageBouncedV1, MessageClickedV1, MessageDeliveredV1, MessageFailedV1, MessageOpenedV1,
    ReplyReceivedV1,
)

from rapport_outreach.adapters import repository
from rapport_outreach.domain.model import PROGRESS, State, normalise_address
from rapport_outreach.service_layer.events import emit, outcome_fields
from rapport_outreach.service_layer.handlers import Deps

ENGAGEMENT = {"delivered": (State.DELIVERED, MessageDeliveredV1), "opened": (State.OPENED, MessageOpenedV1),
              "clicked": (State.CLICKED, MessageClickedV1)}


async def apply_event(session: AsyncSession, deps: Deps, row, kind: str, occurred_at: datetime, *,  # noqa: ANN001
                      provider_event_id: str | None, detail: str | None = None, url: str | None = None,
                      hard: bool = True) -> bool:
    """Record one provider event about a stored message; False when it was already recorded."""
    if not await repository.add_event(session, row.id, row.tenant_id, kind, occurred_at, provider_event_id, detail):
        return False
    fields = {**outcome_fields(row, occurred_at), "detail": detail}
    if kind in ENGAGEMENT:
        state, event_class = ENGAGEMENT[kind]
        if PROGRESS.get(state, 0) > PROGRESS.get(State(row.state), 0):
            await repository.set_state(session, row.id, state, deps.clock.now())
        payload = event_class(**fields, url=url) if kind == "clicked" else event_class(**fields)
        await _emit(session, deps, row, payload)
    elif kind == "bounced":
        await repository.set_state(session, row.id, State.BOUNCED, deps.clock.now(), last_error=detail)
        await _emit(session, deps, row, MessageBouncedV1(**fields, hard=hard))
        if hard:
            await suppress(session, deps, row, "hard_bounce", occurred_at)
    elif kind == "dropped":
        await repository.set_state(session, row.id, State.FAILED, deps.clock.now(), last_error=detail)
        await _emit(session, deps, row, MessageFailedV1(**fields))
    elif kind in ("spam_report", "unsubscribe", "stop"):
        await suppress(session, deps, row, kind, occurred_at)
    return True


async def suppress(session: AsyncSession, deps: Deps, row, reason: str, occurred_at: datetime,  # noqa: ANN001
                   address: str | None = None) -> None:
    address = normalise_address(row.channel, address or row.to_address)
    if not await repository.add_suppression(session, row.tenant_id, row.channel, address, reason, row.contact_id):
        return
    payload = ChannelSuppressedV1(customer_id=row.customer_id, contact_id=row.contact_id, channel=row.channel,
                                  address=address, reason=reason, occurred_at=occurred_at)
    await _emit(session, deps, row, payload)


async def reply(session: AsyncSession, deps: Deps, row, body: str, sender: str, event_id: str) -> str:  # noqa: ANN001
    now = deps.clock.now()
    excerpt = " ".join(body.split())[:500]
    if not await repository.add_event(session, row.id, row.tenant_id, "replied", now, event_id, excerpt):
        return "duplicate"
    payload = ReplyReceivedV1(**outcome_fields(row, now), body_excerpt=excerpt, from_address=sender)
    await _emit(session, deps, row, payload)
    return "replied"


async def _emit(session: AsyncSession, deps: Deps, row, payload) -> None:  # noqa: ANN001
    await emit(session, deps.outbox, payload, tenant_id=row.tenant_id, customer_id=row.customer_id,
               correlation_id=row.correlation_id)
