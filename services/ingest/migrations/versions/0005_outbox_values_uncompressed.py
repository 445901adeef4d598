"""outbox: store large values out of line without compression

Bulk imports pack hundreds of events into one outbox row (``rapport_shared.bus.outbox.pack``).
Compressing those values would cost more CPU than everything else about the row; the relay
deletes them within seconds, so the space saved is not worth it.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ingest.outbox ALTER COLUMN value SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE ingest.outbox ALTER COLUMN value SET STORAGE EXTENDED")
