"""Inbox: remember handled event ids in the handler's transaction, so redelivery has no effect."""
from __future__ import annotations

from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.tables import inbox_table
from rapport_shared.contracts.envelope import Envelope


class Inbox:
    """Both statements are built once; each claim only binds its parameters."""

    def __init__(self, schema: str, consumer: str) -> None:
        self.table = inbox_table(MetaData(schema=schema))
        self._consumer = consumer
        self._claim_one = insert(self.table).on_conflict_do_nothing().returning(self.table.c.event_id)
        table = f'"{self.table.schema}"."{self.table.name}"'
        self._claim_many = text(
            f"INSERT INTO {table} (consumer, event_id, event_type) "
            "SELECT :consumer, u.id, u.type FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[])) AS u(id, type) "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        )

    async def claim(self, session: AsyncSession, envelope: Envelope) -> bool:
        """True the first time this consumer sees the event; False for a duplicate."""
        params = {"consumer": self._consumer, "event_id": envelope.id, "event_type": envelope.type}
        return (await session.execute(self._claim_one, params)).first() is not None

    async def claim_many(self, session: AsyncSession, envelopes: list[Envelope]) -> set:
        """Claim a batch in one statement; returns the ids seen for the first time."""
        if not envelopes:
            return set()
        params = {"consumer": self._consumer, "ids": [e.id for e in envelopes], "types": [e.type for e in envelopes]}
        return set((await session.execute(self._claim_many, params)).scalars())
