"""outbox: store large values out of line without compression

The ticker packs a batch's events into a few rows per lane (``rapport_shared.bus.outbox.pack``),
and a touchpoint listing three invoices is already past the ~2 kB at which Postgres compresses a
value. The relay deletes these rows within seconds: compressing them costs CPU for nothing.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE scheduler.outbox ALTER COLUMN value SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE scheduler.outbox ALTER COLUMN value SET STORAGE EXTENDED")
