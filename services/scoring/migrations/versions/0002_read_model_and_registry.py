"""read model, model registry, last announced scores

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from rapport_shared.db import schema_metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tables():
    # The migration owns a snapshot of the table definitions through the same builder.
    from rapport_scoring.adapters.orm import _tables as build

    return build(schema_metadata("scoring"))


def upgrade() -> None:
    for table in _tables():
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(_tables()):
        table.drop(op.get_bind())
