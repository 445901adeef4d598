"""The frozen migrations build exactly the schema the ORM describes (no drift either way)."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table

from rapport_shared.testing.schema_drift import compare_schema

from rapport_portal.adapters.orm import metadata

pytestmark = pytest.mark.integration


def _inspect(url: str, target: MetaData = metadata) -> tuple[list, set[str], dict]:
    report = compare_schema(url, target, "portal")
    return report.differences, report.tables, report.primary_keys


def test_portal_migrated_schema_equals_the_orm(portal_migrated):
    # portal_migrated brought this run's empty schema to head with the frozen revisions.
    diff, _, _ = _inspect(portal_migrated)
    assert diff == [], f"migrations and ORM differ: {diff}"


def test_portal_migrations_create_every_orm_table_with_named_keys(portal_migrated):
    _, tables, constraints = _inspect(portal_migrated)
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert constraints["invoices"] == "pk_invoices" and constraints["outbox"] == "pk_outbox"


def test_portal_schema_comparison_sees_a_drift(portal_migrated):
    # Guards the guard: an ORM column the migrations never made must show up as a difference.
    drifted = MetaData(schema="portal", naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    Table("plan_limits", drifted, Column("extra", Integer), extend_existing=True)
    diff, _, _ = _inspect(portal_migrated, drifted)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "plan_limits", "extra")]
