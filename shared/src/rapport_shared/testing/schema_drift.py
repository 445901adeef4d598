"""Compare a migrated schema with the ORM that describes it (frozen migrations must not drift).

Each service's migrations are explicit DDL; its ORM module is what the code reads and writes. A
service's test migrates an empty schema to head and asks this module for the differences Alembic's
autogenerate sees, the tables that exist, and the primary-key constraint names.
"""
from __future__ import annotations

from dataclasses import dataclass

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect

from rapport_shared.db import to_sync_url


@dataclass(frozen=True)
class SchemaReport:
    differences: list
    tables: set[str]
    primary_keys: dict[str, str | None]


def compare_schema(database_url: str, metadata: MetaData, schema: str, *,
                   public_search_path: bool = False) -> SchemaReport:
    """Differences between the live ``schema`` and ``metadata``, ignoring Alembic's own table.

    ``public_search_path``: a service role's search_path starts with its schema, so Postgres names
    that schema's foreign-key targets without it; reflecting from ``public`` qualifies them fully.
    """
    connect_args = {"options": "-csearch_path=public"} if public_search_path else {}
    engine = create_engine(to_sync_url(database_url), connect_args=connect_args)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_schemas": True, "target_metadata": metadata,
                "include_name": lambda name, kind, _parent: kind != "schema" or name in (None, schema),
                "compare_type": True, "compare_server_default": True})
            differences = [d for d in compare_metadata(context, metadata) if "alembic_version" not in repr(d)]
            inspector = inspect(connection)
            tables = set(inspector.get_table_names(schema=schema))
            keys = {t: inspector.get_pk_constraint(t, schema=schema)["name"] for t in tables}
    finally:
        engine.dispose()
    return SchemaReport(differences, tables, keys)
