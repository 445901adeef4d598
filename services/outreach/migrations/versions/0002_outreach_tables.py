"""messages, message events, suppressions, contacts, templates, dead letters

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from rapport_outreach.adapters import orm

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (orm.messages, orm.message_events, orm.suppressions, orm.contacts, orm.templates, orm.dead_letters)


def upgrade() -> None:
    # Created from the table definitions as they stand at this revision.
    for table in TABLES:
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(TABLES):
        table.drop(op.get_bind())
