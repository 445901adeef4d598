"""The migrations build exactly the tables the ORM describes (frozen DDL must not drift from the code)."""
from __future__ import annotations

import pytest

from rapport_shared.testing.schema_drift import compare_schema

from rapport_ingest.adapters.orm import metadata

pytestmark = pytest.mark.integration


def test_ingest_migrated_schema_matches_the_orm(ingest_settings):
    # ingest_settings migrated this run's empty database to head.
    report = compare_schema(ingest_settings.database_url, metadata, "ingest", public_search_path=True)
    assert {t.name for t in metadata.sorted_tables} <= report.tables
    assert report.differences == [], f"migrations and ORM differ: {report.differences}"
