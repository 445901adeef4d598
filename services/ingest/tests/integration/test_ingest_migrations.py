"""The migrations build exactly the tables the ORM describes (frozen DDL must not drift from the code)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rapport_shared.db import to_sync_url

from rapport_ingest.adapters.orm import metadata

pytestmark = pytest.mark.integration


def _schema_diff(database_url: str) -> tuple[list, set[str]]:
    # The service role's search_path starts with its schema, and Postgres then names foreign-key
    # targets without it; reflecting from outside that path compares them fully qualified.
    engine = create_engine(to_sync_url(database_url), connect_args={"options": "-csearch_path=public"})
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_schemas": True, "target_metadata": metadata,
                "include_name": lambda name, kind, parent: kind != "schema" or name in (None, "ingest"),
                "compare_type": True, "compare_server_default": True})
            diff = [d for d in compare_metadata(context, metadata) if "alembic_version" not in repr(d)]
            tables = set(inspect(connection).get_table_names(schema="ingest"))
    finally:
        engine.dispose()
    return diff, tables


def test_ingest_migrated_schema_matches_the_orm(ingest_settings):
    # ingest_settings migrated this run's empty database to head.
    diff, tables = _schema_diff(ingest_settings.database_url)
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert diff == [], f"migrations and ORM differ: {diff}"
