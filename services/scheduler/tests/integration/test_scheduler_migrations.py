"""The migrations build exactly the tables the ORM describes (frozen DDL must not drift from the code)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from rapport_shared.db import to_sync_url

from rapport_scheduler.adapters.orm import metadata

pytestmark = pytest.mark.integration


def _schema_diff(database_url: str) -> tuple[list, set[str], list]:
    engine = create_engine(to_sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_schemas": True, "target_metadata": metadata,
                "include_name": lambda name, kind, parent: kind != "schema" or name in (None, "scheduler"),
                "compare_type": True, "compare_server_default": True})
            diff = compare_metadata(context, metadata)
            tables = set(inspect(connection).get_table_names(schema="scheduler"))
            clock = connection.execute(text("SELECT id FROM scheduler.clock")).scalars().all()
    finally:
        engine.dispose()
    return diff, tables, clock


def test_scheduler_migrated_schema_matches_the_orm(sched_settings):
    # sched_settings migrated this run's empty database to head.
    diff, tables, clock = _schema_diff(sched_settings.database_url)
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert diff == [], f"migrations and ORM differ: {diff}"
    assert clock == [1]  # the one clock row the api, consumer and ticker read
