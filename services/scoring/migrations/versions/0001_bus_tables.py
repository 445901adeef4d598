"""outbox and inbox

Revision ID: 0001
Revises:
"""
from alembic import op

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in add_bus_tables(schema_metadata("scoring")):
        table.create(op.get_bind())


def downgrade() -> None:
    for table in add_bus_tables(schema_metadata("scoring")):
        table.drop(op.get_bind())
