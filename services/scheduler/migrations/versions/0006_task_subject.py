"""tasks name what they are about in structured fields (the uncertain message, the requested plan)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("subject_kind", sa.Text(), nullable=True), schema="scheduler")
    op.add_column("tasks", sa.Column("subject_id", sa.UUID(), nullable=True), schema="scheduler")
    op.create_index("ix_tasks_subject", "tasks", ["tenant_id", "subject_id"], unique=False, schema="scheduler",
                    postgresql_where=sa.text("subject_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_tasks_subject", table_name="tasks", schema="scheduler")
    op.drop_column("tasks", "subject_id", schema="scheduler")
    op.drop_column("tasks", "subject_kind", schema="scheduler")
