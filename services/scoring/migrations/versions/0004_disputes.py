"""disputes: opened through the portal, resolved by the scheduler's dispute case

Revision ID: 0004
Revises: 0003

Keyed by the portal request id (the scheduler's case id for the dispute). Either the opening
or the resolution may arrive first (different topics), so both columns are nullable.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "scoring"


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("dispute_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("invoice_id", UUID(as_uuid=True)),
        sa.Column("opened_on", sa.Date()),
        sa.Column("resolved_on", sa.Date()),
        schema=SCHEMA,
    )
    op.create_index("ix_disputes_invoice", "disputes", ["invoice_id"], schema=SCHEMA)
    op.create_index("ix_disputes_customer", "disputes", ["tenant_id", "customer_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("disputes", schema=SCHEMA)
