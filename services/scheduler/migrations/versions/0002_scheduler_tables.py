"""scheduler read model, policies, timers, touchpoints, worklist

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from rapport_scheduler.adapters import orm

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = [orm.clock, orm.policies, orm.customers, orm.contacts, orm.invoices, orm.plans, orm.timers,
          orm.touchpoints, orm.tasks, orm.cases, orm.timeline, orm.assignment_rules]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)
    op.execute("INSERT INTO scheduler.clock (id, offset_seconds) VALUES (1, 0)")


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
