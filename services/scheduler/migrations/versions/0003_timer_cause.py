"""timers remember the event that made a customer due (causation of what the ticker then emits)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("cause_id", sa.UUID(), nullable=True), schema="scheduler")
    op.add_column("timers", sa.Column("correlation_id", sa.UUID(), nullable=True), schema="scheduler")


def downgrade() -> None:
    op.drop_column("timers", "correlation_id", schema="scheduler")
    op.drop_column("timers", "cause_id", schema="scheduler")
