"""Tables of the ``portal`` schema (all SQL of this service lives in adapters/).

The read model (customers, contacts, invoices, credit notes, payments, messages, interactions)
is built only from events; the rest (requests, documents, sessions, used links, audit, plan
limits) is the portal's own state.
"""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Index, Integer, Numeric, String, Table, Text, func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("portal")
outbox, inbox = add_bus_tables(metadata)


def _uuid(name: str, **kw) -> Column:
    return Column(name, UUID(as_uuid=True), **kw)


def _ts(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


customers = Table(
    "customers", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("customer_id", primary_key=True),
    Column("name", String(300), nullable=False), Column("currency", String(3), nullable=False),
    Column("locale", String(20), nullable=False), Column("time_zone", String(64), nullable=False),
    Column("version", Integer, nullable=False), _ts("updated_at", nullable=False, server_default=func.now()),
)

contacts = Table(
    "contacts", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("contact_id", primary_key=True),
    _uuid("customer_id", nullable=False), Column("name", String(300), nullable=False),
    Column("email", String(320)), Column("phone", String(32)), Column("preferred_channel", String(16)),
    Column("locale", String(20)), Column("opted_out_channels", JSONB, nullable=False, server_default="[]"),
    Column("active", Boolean, nullable=False), Column("version", Integer, nullable=False),
    Index("ix_contacts_email", "email"),
)

invoices = Table(
    "invoices", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("invoice_id", primary_key=True),
    _uuid("customer_id", nullable=False), Column("number", String(100), nullable=False),
    Column("issue_date", Date, nullable=False), Column("due_date", Date, nullable=False),
    Column("currency", String(3), nullable=False), Column("amount_total", Numeric, nullable=False),
    Column("tax_amount", Numeric, nullable=False), Column("open_amount", Numeric, nullable=False),
    Column("status", String(20), nullable=False), Column("po_number", String(100)), Column("terms", String(200)),
    Column("pdf_url", Text), _ts("paid_at"), Column("dunning_stage", String(50)),
    Column("version", Integer, nullable=False),
    _ts("dunning_stage_at"), _ts("last_touch_at"),  # the scheduler's time of the stage shown; its last touch
    Index("ix_invoices_customer_due", "tenant_id", "customer_id", "due_date"),
)

credit_notes = Table(
    "credit_notes", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("credit_note_id", primary_key=True),
    _uuid("customer_id", nullable=False), Column("number", String(100), nullable=False),
    Column("issue_date", Date, nullable=False), Column("currency", String(3), nullable=False),
    Column("amount", Numeric, nullable=False), Column("unapplied_amount", Numeric, nullable=False),
    # Requested through the portal but not yet applied by the ledger: not available twice.
    Column("pending_amount", Numeric, nullable=False, server_default="0"),
    Column("reason", Text), Column("version", Integer, nullable=False),
    Index("ix_credit_notes_customer", "tenant_id", "customer_id"),
)

payments = Table(
    "payments", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("payment_id", primary_key=True),
    _uuid("customer_id", nullable=False), Column("amount", Numeric, nullable=False),
    Column("currency", String(3), nullable=False), Column("received_on", Date, nullable=False),
    Column("reference", String(200)), Column("source", String(20), nullable=False),
    Column("allocations", JSONB, nullable=False, server_default="[]"),
    Column("reversed_amount", Numeric, nullable=False, server_default="0"), Column("reversed_on", Date),
    Index("ix_payments_customer", "tenant_id", "customer_id"),
)

messages = Table(
    "messages", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("message_id", primary_key=True),
    _uuid("customer_id", nullable=False), _uuid("contact_id"), Column("channel", String(16), nullable=False),
    Column("subject", Text), Column("preview", Text), Column("template_key", String(100)),
    Column("invoice_ids", JSONB, nullable=False, server_default="[]"),
    _ts("sent_at"), Column("status", String(20), nullable=False), _ts("status_at", nullable=False),
    Index("ix_messages_customer", "tenant_id", "customer_id", "status_at"),
)

interactions = Table(
    "interactions", metadata,
    _uuid("event_id", primary_key=True), _uuid("tenant_id", nullable=False), _uuid("customer_id", nullable=False),
    _ts("occurred_at", nullable=False), Column("kind", String(40), nullable=False),
    Column("summary", Text, nullable=False), _uuid("ref_id"),
    Index("ix_interactions_customer", "tenant_id", "customer_id", "occurred_at"),
)

requests = Table(
    "requests", metadata,
    _uuid("request_id", primary_key=True), _uuid("tenant_id", nullable=False), _uuid("customer_id", nullable=False),
    _uuid("contact_id"), Column("kind", String(30), nullable=False), Column("status", String(20), nullable=False),
    Column("invoice_ids", JSONB, nullable=False, server_default="[]"), Column("payload", JSONB, nullable=False),
    Column("note", Text), _ts("created_at", nullable=False), _ts("updated_at", nullable=False),
    Index("ix_requests_customer", "tenant_id", "customer_id", "kind"),
)

documents = Table(
    "documents", metadata,
    _uuid("document_id", primary_key=True), _uuid("tenant_id", nullable=False), _uuid("customer_id", nullable=False),
    _uuid("contact_id", nullable=False), Column("filename", String(120), nullable=False),
    Column("content_type", String(40), nullable=False), Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False), Column("storage_name", String(80), nullable=False),
    _uuid("request_id"), _ts("created_at", nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True), _uuid("tenant_id", nullable=False),
    _uuid("customer_id", nullable=False), _uuid("contact_id", nullable=False),
    Column("csrf_token", String(64), nullable=False), _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False), _ts("revoked_at"),
)

used_links = Table(
    "used_links", metadata,
    Column("nonce", String(64), primary_key=True), _uuid("tenant_id", nullable=False),
    _uuid("contact_id", nullable=False), _ts("used_at", nullable=False), _ts("expires_at", nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True), _uuid("tenant_id", nullable=False),
    _uuid("customer_id", nullable=False), _uuid("contact_id"), Column("action", String(60), nullable=False),
    Column("detail", JSONB, nullable=False, server_default="{}"), Column("ip", String(64)),
    _ts("at", nullable=False),
    Index("ix_audit_log_customer", "tenant_id", "customer_id", "at"),
)

plan_limits = Table(
    "plan_limits", metadata,
    _uuid("tenant_id", primary_key=True), Column("max_instalments", Integer, nullable=False),
    Column("max_days", Integer, nullable=False),
)

# Bumped by a trigger (migration 0003) whenever one of a customer's invoice rows changes, in the
# same transaction: a response cached under a version is stale exactly when the version moved.
read_versions = Table(
    "read_versions", metadata,
    _uuid("tenant_id", primary_key=True), _uuid("customer_id", primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Sign-in attempts per key and fixed window, shared by every worker (sliding estimate in the domain).
rate_limits = Table(
    "rate_limits", metadata,
    Column("key", String(200), primary_key=True), _ts("window_start", primary_key=True),
    Column("hits", Integer, nullable=False), _ts("expires_at", nullable=False),
    Index("ix_rate_limits_expires_at", "expires_at"),
)
