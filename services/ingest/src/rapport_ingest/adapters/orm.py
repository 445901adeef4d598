"""Tables of the ``ingest`` schema (all SQL of this service lives in adapters/).

Every ledger row carries ``tenant_id``; every lookup filters on it.
"""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Identity, Index, Integer, LargeBinary,
    Numeric, Table, Text, UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("ingest")
outbox, inbox = add_bus_tables(metadata)

MONEY = Numeric(20, 4)


def _now() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


tenants = Table(
    "tenants", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("cash_application_policy", Text, nullable=False, server_default="oldest_first"),
    _now(),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("prefix", Text, nullable=False, unique=True),
    Column("secret_hash", Text, nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    _now(),
)

customers = Table(
    "customers", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("attributes", JSONB, nullable=False, server_default="{}"),
    Column("source_updated_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    _now(),
    UniqueConstraint("tenant_id", "external_id"),
)

contacts = Table(
    "contacts", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id"), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("attributes", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("tenant_id", "customer_id", "external_id"),
)

invoices = Table(
    "invoices", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("number", Text, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount_total", MONEY, nullable=False),
    Column("tax_amount", MONEY, nullable=False, server_default="0"),
    Column("paid_amount", MONEY, nullable=False, server_default="0"),
    Column("credited_amount", MONEY, nullable=False, server_default="0"),
    Column("written_off_amount", MONEY, nullable=False, server_default="0"),
    Column("open_amount", MONEY, nullable=False),
    Column("status", Text, nullable=False),
    Column("po_number", Text),
    Column("terms", Text),
    Column("pdf_url", Text),
    Column("lines", JSONB, nullable=False, server_default="[]"),
    Column("paid_at", DateTime(timezone=True)),
    Column("source_updated_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    _now(),
    # The import job that last wrote the row: a later row of the same file with other content is an error.
    Column("import_job_id", UUID(as_uuid=True)),
    UniqueConstraint("tenant_id", "number"),
    Index("ix_invoices_open", "tenant_id", "customer_id", "due_date"),
)

credit_notes = Table(
    "credit_notes", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("number", Text, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("unapplied_amount", MONEY, nullable=False),
    Column("reason", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    _now(),
    UniqueConstraint("tenant_id", "number"),
)

payments = Table(
    "payments", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True)),
    Column("external_id", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", Text, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("method", Text),
    Column("reference", Text),
    Column("remittance_text", Text),
    Column("source", Text, nullable=False),
    Column("unapplied_amount", MONEY, nullable=False),
    Column("refunded_amount", MONEY, nullable=False, server_default="0"),
    Column("match_rule", Text),
    Column("needs_review", Boolean, nullable=False, server_default="false"),
    Column("review_reason", Text),
    _now(),
    UniqueConstraint("tenant_id", "external_id"),
)

# One auditable row per movement of money onto or off an invoice.
allocations = Table(
    "allocations", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("invoice_id", UUID(as_uuid=True), nullable=False),
    Column("payment_id", UUID(as_uuid=True)),
    Column("credit_note_id", UUID(as_uuid=True)),
    Column("kind", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("rule", Text),
    Column("reason", Text),
    _now(),
    Index("ix_allocations_payment", "payment_id"),
    Index("ix_allocations_invoice", "invoice_id"),
)

adjustments = Table(
    "adjustments", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("invoice_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("reason", Text),
    _now(),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSONB, nullable=False),
    _now(),
)

import_jobs = Table(
    "import_jobs", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("preset", Text, nullable=False),
    Column("mapping", JSONB),
    Column("content", LargeBinary),
    Column("status", Text, nullable=False),
    Column("rows_total", Integer, nullable=False, server_default="0"),
    Column("rows_done", Integer, nullable=False, server_default="0"),
    Column("rows_failed", Integer, nullable=False, server_default="0"),
    Column("detail", Text),
    _now(),
    Column("finished_at", DateTime(timezone=True)),
)

import_errors = Table(
    "import_errors", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("job_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("row", Integer, nullable=False),
    Column("field", Text),
    Column("reason", Text, nullable=False),
)

stripe_events = Table(
    "stripe_events", metadata,
    Column("event_id", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("outcome", Text, nullable=False),
    _now(),
)

webhook_rejections = Table(
    "webhook_rejections", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("provider", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("signature", Text),
    Column("body_sha256", Text, nullable=False),
    _now(),
)

# What the other services said, kept for the ERP's status read-back.
account_status = Table(
    "account_status", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", UUID(as_uuid=True), primary_key=True),
    Column("subject_kind", Text, nullable=False),
    Column("facts", JSONB, nullable=False, server_default="{}"),
)

pending_payments = Table(
    "pending_payments", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("checkout_session_id", Text, primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("invoice_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="initiated"),
    _now(),
)
