"""Tables of the ``outreach`` schema (all SQL of this service lives in adapters/)."""
from sqlalchemy import (
    JSON, BigInteger, Column, DateTime, Identity, Index, Integer, String, Table, Text, UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("outreach")
outbox, inbox = add_bus_tables(metadata)

_JSON = JSON().with_variant(JSONB(), "postgresql")


def _now() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


# One row per message, written before any provider is called. state moves
# queued -> sending -> sent -> delivered/opened/clicked, or -> uncertain / failed / suppressed.
messages = Table(
    "messages", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("touchpoint_id", UUID(as_uuid=True)),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("contact_id", UUID(as_uuid=True)),
    Column("channel", String(16), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("template_key", String(64)),
    Column("locale", String(16), nullable=False, server_default="en"),
    Column("subject", Text),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("invoice_ids", _JSON, nullable=False),
    Column("touchpoint", _JSON, doc="the touchpoint payload, to re-plan on a late suppression"),
    Column("correlation_id", UUID(as_uuid=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("provider_message_id", String(128)),
    Column("last_error", Text),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("touchpoint_id", "channel", name="uq_messages_touchpoint_channel"),
    Index("ix_messages_due", "state", "next_attempt_at"),
    Index("ix_messages_customer", "tenant_id", "customer_id", "created_at"),
    Index("ix_messages_provider_id", "provider_message_id"),
)
# Replies are matched case-insensitively: lower(to_address) = :address (adapters/repository.py).
Index("ix_messages_to_lower", func.lower(messages.c.to_address), messages.c.channel, messages.c.created_at)

# Everything that happened to a message (the communication history); provider event ids dedupe webhooks.
message_events = Table(
    "message_events", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("message_id", UUID(as_uuid=True), nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("provider_event_id", String(128)),
    Column("detail", Text),
    UniqueConstraint("provider_event_id", name="uq_message_events_provider_event_id"),
    Index("ix_message_events_message", "message_id", "occurred_at"),
)

suppressions = Table(
    "suppressions", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("reason", String(24), nullable=False),
    Column("contact_id", UUID(as_uuid=True)),
    _now(),
)

contacts = Table(
    "contacts", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("contact_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("locale", String(16)),
    Column("opted_out_channels", _JSON, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_contacts_email_lower", func.lower(contacts.c.email))
Index("ix_contacts_phone_lower", func.lower(contacts.c.phone))

templates = Table(
    "templates", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("key", String(64), nullable=False),
    Column("tone", String(16), nullable=False, server_default=""),
    Column("locale", String(16), nullable=False),
    Column("segment", String(64), nullable=False, server_default=""),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("sms", Text, nullable=False),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "key", "tone", "locale", "segment", name="uq_templates_variant"),
)

dead_letters = Table(
    "dead_letters", metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    _now(),
)

# A tenant's own provider account per channel. Secrets are encrypted (adapters/secret_box.py).
provider_accounts = Table(
    "provider_accounts", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("settings", _JSON, nullable=False),
    Column("secrets", Text, nullable=False, doc="Fernet token of the JSON object of secrets"),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Keys of the outreach API, one tenant each; the secret is stored only as its SHA-256 (domain/api_keys.py).
api_keys = Table(
    "api_keys", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    _now(),
    Column("revoked_at", DateTime(timezone=True)),
    UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    Index("ix_api_keys_tenant", "tenant_id"),
)
