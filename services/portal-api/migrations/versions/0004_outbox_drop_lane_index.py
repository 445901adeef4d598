"""outbox: drop the (lane, id) index

The relay claims rows in id order through the primary key and deletes them by id; no statement
reads through ``(lane, id)``, and every outbox insert (one per imported invoice) paid for it.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_lane_id", table_name="outbox", schema="portal", if_exists=True)


def downgrade() -> None:
    op.create_index("ix_outbox_lane_id", "outbox", ["lane", "id"], schema="portal")
