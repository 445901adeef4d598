"""What providers tell us after a send: delivery, engagement, bounces, opt-outs and replies."""
from __future__ import annotations

import re
from datetime import datetime
from email.utils import parseaddr
from uuid import UUID

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
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "ARRET", "ARRÊT"}
START_WORDS = {"START", "UNSTOP", "YES"}
REPLY_ADDRESS = re.compile(r"reply\+([0-9a-fA-F-]{36})@")


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


async def inbound_sms(session: AsyncSession, deps: Deps, sender: str, body: str, sid: str) -> str:
    """An SMS from a contact: an opt-out keyword, an opt-in keyword, or a reply to our last message."""
    address = normalise_address("sms", sender)
    row = await repository.latest_message_to(session, "sms", address)
    if row is None:
        return "unmatched"
    word = body.strip().split(maxsplit=1)[0].upper() if body.strip() else ""
    now = deps.clock.now()
    if word in STOP_WORDS:
        await repository.add_event(session, row.id, row.tenant_id, "stop", now, f"sms-in:{sid}", body[:200])
        await suppress(session, deps, row, "stop", now, address)
        return "suppressed"
    if word in START_WORDS:
        await repository.remove_suppression(session, row.tenant_id, "sms", address, "stop")
        return "resubscribed"
    return await reply(session, deps, row, body, sender, f"sms-in:{sid}")


async def inbound_email(session: AsyncSession, deps: Deps, from_header: str, to_header: str, text: str,
                        provider_event_id: str) -> str:
    """An e-mail answer from Inbound Parse, matched by its reply address, else by its sender."""
    sender = parseaddr(from_header)[1].lower()
    match = REPLY_ADDRESS.search(to_header or "")
    row = await repository.get_message(session, UUID(match.group(1))) if match else None
    if row is None and sender:
        row = await repository.latest_message_to(session, "email", sender)
    if row is None:
        return "unmatched"
    return await reply(session, deps, row, text, sender, provider_event_id)


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
