"""a manual collector assignment sticks; a payment plan remembers the portal request it came from

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("collector_manual", sa.Boolean(), server_default="false", nullable=False),
                  schema="scheduler")
    op.add_column("plans", sa.Column("request_id", sa.UUID(), nullable=True), schema="scheduler")


def downgrade() -> None:
    op.drop_column("plans", "request_id", schema="scheduler")
    op.drop_column("customers", "collector_manual", schema="scheduler")
