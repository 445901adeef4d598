"""One transaction per request or message: ledger rows and the events they cause commit together."""
from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.base import EventPayload
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.time import Clock

from rapport_ingest.adapters.repository import LedgerRepository

SOURCE = "rapport.ingest"


class UnitOfWork:
    """The caller owns the transaction (``session.begin()``); this adds the ledger and the outbox to it."""

    def __init__(
        self, session: AsyncSession, tenant_id: UUID, outbox: Outbox, clock: Clock,
        *, causation: Envelope | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.ledger = LedgerRepository(session, tenant_id)
        self.clock = clock
        self._outbox = outbox
        self._causation = causation
        self.emitted: list[Envelope] = []

    async def emit(self, payload: EventPayload, customer_id: UUID | str | None) -> None:
        await self.emit_many([(payload, customer_id)])

    async def emit_many(self, events: Iterable[tuple[EventPayload, UUID | str | None]]) -> None:
        """Several events in the given order, written to the outbox by one batched insert."""
        await self._outbox.add_many(self.session, self.envelopes(events))

    def envelopes(self, events: Iterable[tuple[EventPayload, UUID | str | None]]) -> list[Envelope]:
        """The events as emitted (counted in ``emitted``), for a caller that writes the outbox rows itself."""
        now = self.clock.now()
        envelopes = [make_event(payload, source=SOURCE, tenant_id=self.tenant_id, customer_key=customer_id or "-",
                                causation=self._causation, time=now) for payload, customer_id in events]
        self.emitted.extend(envelopes)
        return envelopes

    def outbox_rows(self, envelopes: Iterable[Envelope]) -> list[tuple]:
        """Outbox rows ``(event_id, event_type, topic, lane, key, value)`` of ``envelopes`` (``bulk.insert_events``)."""
        row = self._outbox.row
        return [tuple(row(envelope).values()) for envelope in envelopes]
