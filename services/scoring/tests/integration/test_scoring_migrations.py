"""The frozen migrations build exactly the schema the ORM describes (no drift either way)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rapport_shared.db import to_sync_url

from rapport_scoring.adapters.orm import metadata

pytestmark = pytest.mark.integration


def _differences(url: str) -> list:
    # The role's default schema is ``scoring``; Alembic would then reflect it as schema None.
    engine = create_engine(to_sync_url(url), connect_args={"options": "-c search_path=public"})
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_schemas": True, "compare_type": True, "compare_server_default": True,
                "include_name": lambda name, kind, _: kind != "schema" or name in (None, "scoring"),
            })
            return [d for d in compare_metadata(context, metadata) if "alembic_version" not in repr(d)]
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_orm(scoring_url):
    assert _differences(scoring_url) == []


def test_migrations_create_every_orm_table(scoring_url):
    engine = create_engine(to_sync_url(scoring_url))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names(schema="scoring"))
    finally:
        engine.dispose()
    assert {t.name for t in metadata.sorted_tables} <= tables
