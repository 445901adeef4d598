"""invoices: when the shown dunning stage was decided, and the last touch

Revision ID: 0005
Revises: 0004

The stage of an invoice comes from two topics (stage events on ``task``, touchpoints on ``touchpoint``)
that are not ordered with each other: ``dunning_stage_at`` (the scheduler's time of the fact shown)
lets an older fact arriving late be ignored. Both columns are nullable: adding them rewrites nothing.
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("dunning_stage_at", sa.DateTime(timezone=True), nullable=True), schema="portal")
    op.add_column("invoices", sa.Column("last_touch_at", sa.DateTime(timezone=True), nullable=True), schema="portal")


def downgrade() -> None:
    op.drop_column("invoices", "last_touch_at", schema="portal")
    op.drop_column("invoices", "dunning_stage_at", schema="portal")
