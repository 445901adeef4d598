"""The frozen migrations build exactly the schema the ORM describes (no drift either way)."""
from __future__ import annotations

import pytest

from rapport_shared.testing.schema_drift import compare_schema

from rapport_scoring.adapters.orm import metadata

pytestmark = pytest.mark.integration


def test_migrated_schema_equals_the_orm(scoring_url):
    # The role's default schema is ``scoring``; Alembic would then reflect it as schema None.
    report = compare_schema(scoring_url, metadata, "scoring", public_search_path=True)
    assert report.differences == []


def test_migrations_create_every_orm_table(scoring_url):
    report = compare_schema(scoring_url, metadata, "scoring", public_search_path=True)
    assert {t.name for t in metadata.sorted_tables} <= report.tables
