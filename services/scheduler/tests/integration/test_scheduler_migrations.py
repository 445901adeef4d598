"""The migrations build exactly the tables the ORM describes (frozen DDL must not drift from the code)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from rapport_shared.db import to_sync_url
from rapport_shared.testing.schema_drift import compare_schema

from rapport_scheduler.adapters.orm import metadata

pytestmark = pytest.mark.integration


def _clock_rows(database_url: str) -> list:
    engine = create_engine(to_sync_url(database_url))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT id FROM scheduler.clock")).scalars().all()
    finally:
        engine.dispose()


def test_scheduler_migrated_schema_matches_the_orm(sched_settings):
    # sched_settings migrated this run's empty database to head.
    report = compare_schema(sched_settings.database_url, metadata, "scheduler")
    assert {t.name for t in metadata.sorted_tables} <= report.tables
    assert report.differences == [], f"migrations and ORM differ: {report.differences}"
    assert _clock_rows(sched_settings.database_url) == [1]  # the one clock row api, consumer and ticker read


def test_rewritten_tables_keep_room_for_heap_only_updates(sched_settings):
    # The ticker's invoice and customer updates touch no indexed column; with room on the page they stay
    # heap-only. The ORM declares the same fillfactor the migration sets.
    engine = create_engine(to_sync_url(sched_settings.database_url))
    try:
        with engine.connect() as connection:
            options = dict(connection.execute(text(
                "SELECT relname, array_to_string(reloptions, ',') FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'scheduler' AND relname IN ('invoices', 'customers')")).all())
    finally:
        engine.dispose()
    assert options == {"invoices": "fillfactor=70", "customers": "fillfactor=70"}
    assert {t: metadata.tables[f"scheduler.{t}"].dialect_options["postgresql"]["with"] for t in options} == {
        "invoices": {"fillfactor": 70}, "customers": {"fillfactor": 70}}
