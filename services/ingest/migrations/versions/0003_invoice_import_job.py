"""invoices remember the import job that last wrote them

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("import_job_id", pg.UUID(as_uuid=True), nullable=True), schema="ingest")


def downgrade() -> None:
    op.drop_column("invoices", "import_job_id", schema="ingest")
