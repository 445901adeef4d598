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
