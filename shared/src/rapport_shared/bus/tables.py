"""The outbox and inbox tables every service keeps in its own schema."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Column, DateTime, Identity, LargeBinary, MetaData, PrimaryKeyConstraint,
    SmallInteger, Table, Text, func,
)
from sqlalchemy.dialects.postgresql import UUID

OUTBOX_LANES = 16


def outbox_table(metadata: MetaData) -> Table:
    """Events committed with the state that caused them, waiting for the relay.

    ``lane`` is a hash of the record key: one relay at a time owns a lane, so events
    of one customer are published in commit order even with several relays.
    """
    name = "outbox"
    if metadata.schema and f"{metadata.schema}.{name}" in metadata.tables:
        return metadata.tables[f"{metadata.schema}.{name}"]
    return Table(
        name, metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("lane", SmallInteger, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Ids of events already handled, written in the handler's own transaction."""
    name = "inbox"
    if metadata.schema and f"{metadata.schema}.{name}" in metadata.tables:
        return metadata.tables[f"{metadata.schema}.{name}"]
    return Table(
        name, metadata,
        Column("consumer", Text, nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("event_type", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )


def add_bus_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Attach the outbox and inbox to a service's metadata (so its Alembic migrations create them)."""
    return outbox_table(metadata), inbox_table(metadata)
