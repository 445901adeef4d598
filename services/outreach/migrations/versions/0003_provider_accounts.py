"""provider accounts per tenant and channel

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "outreach"


def upgrade() -> None:
    op.create_table(
        "provider_accounts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("settings", postgresql.JSONB(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "channel", name="pk_provider_accounts"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("provider_accounts", schema=SCHEMA)
