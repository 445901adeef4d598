"""Fixtures for the shared library's integration tests: a scratch schema in the run's database."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, Table, Text, text
from sqlalchemy.dialects.postgresql import UUID

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import make_engine, make_session_factory, schema_metadata
from rapport_shared.infra.naming import database_url_with_name


@pytest.fixture
async def scratch(infra):
    """A fresh schema holding an outbox, an inbox and an ``effects`` table the handlers write to."""
    schema = f"s_{uuid.uuid4().hex[:8]}"
    metadata = schema_metadata(schema)
    add_bus_tables(metadata)
    effects = Table("effects", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                    Column("event_id", UUID(as_uuid=True), nullable=False), Column("note", Text))
    engine = make_engine(database_url_with_name(infra.admin_url, infra.database))
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(metadata.create_all)
    yield Scratch(schema, engine, make_session_factory(engine), effects)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


class Scratch:
    def __init__(self, schema, engine, sessions, effects):
        self.schema, self.engine, self.sessions, self.effects = schema, engine, sessions, effects

    async def count(self, sql: str) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql.format(schema=self.schema)))).scalar_one()
