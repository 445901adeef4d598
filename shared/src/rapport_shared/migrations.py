"""Alembic plumbing shared by every service: each keeps its version table in its own schema."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool

from rapport_shared.db import to_sync_url


def alembic_config(script_location: Path, database_url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", to_sync_url(database_url).replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade_head(script_location: Path, database_url: str, schema: str) -> None:
    """Apply every migration of one service (idempotent)."""
    command.upgrade(alembic_config(script_location, database_url, schema), "head")


def run_env(metadata: MetaData) -> None:
    """Body of a service's ``migrations/env.py`` (online mode only: we always have a database)."""
    from alembic import context

    config = context.config
    schema = config.attributes.get("schema") or metadata.schema
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=False,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
