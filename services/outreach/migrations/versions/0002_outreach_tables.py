"""messages, message events, suppressions, contacts, templates, dead letters

Revision ID: 0002
Revises: 0001

Frozen DDL: a migration must not follow the ORM module as it changes later
(tests/integration/test_outreach_migrations.py checks head against the ORM).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "outreach"
TABLES = ("messages", "message_events", "suppressions", "contacts", "templates", "dead_letters")


def _stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    _messages()
    _message_events()
    op.create_table(
        "suppressions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "channel", "address", name="pk_suppressions"),
        schema=SCHEMA,
    )
    _contacts()
    _templates()
    op.create_table(
        "dead_letters",
        sa.Column("message_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("message_id", name="pk_dead_letters"),
        schema=SCHEMA,
    )


def _messages() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("touchpoint_id", sa.UUID(), nullable=True),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("template_key", sa.String(64), nullable=True),
        sa.Column("locale", sa.String(16), server_default="en", nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("invoice_ids", postgresql.JSONB(), nullable=False),
        sa.Column("touchpoint", postgresql.JSONB(), nullable=True),
        sa.Column("correlation_id", sa.UUID(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("touchpoint_id", "channel", name="uq_messages_touchpoint_channel"),
        schema=SCHEMA,
    )
    op.create_index("ix_messages_customer", "messages", ["tenant_id", "customer_id", "created_at"], schema=SCHEMA)
    op.create_index("ix_messages_due", "messages", ["state", "next_attempt_at"], schema=SCHEMA)
    op.create_index("ix_messages_provider_id", "messages", ["provider_message_id"], schema=SCHEMA)
    op.create_index("ix_messages_to", "messages", ["to_address", "created_at"], schema=SCHEMA)


def _message_events() -> None:
    op.create_table(
        "message_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_event_id", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_events"),
        sa.UniqueConstraint("provider_event_id", name="uq_message_events_provider_event_id"),
        schema=SCHEMA,
    )
    op.create_index("ix_message_events_message", "message_events", ["message_id", "occurred_at"], schema=SCHEMA)


def _contacts() -> None:
    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("opted_out_channels", postgresql.JSONB(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "contact_id", name="pk_contacts"),
        schema=SCHEMA,
    )
    op.create_index("ix_contacts_email", "contacts", ["email"], schema=SCHEMA)
    op.create_index("ix_contacts_phone", "contacts", ["phone"], schema=SCHEMA)


def _templates() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("tone", sa.String(16), server_default="", nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("segment", sa.String(64), server_default="", nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("sms", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_templates"),
        sa.UniqueConstraint("tenant_id", "key", "tone", "locale", "segment", name="uq_templates_variant"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table, schema=SCHEMA)
