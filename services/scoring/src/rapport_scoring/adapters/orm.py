"""Tables of the ``scoring`` schema (all SQL of this service lives in adapters/).

A read model of customers, invoices, payment allocations and outreach touches built from
events; the model registry; and the last score announced per customer and invoice (so
only meaningful changes are emitted).
"""
from sqlalchemy import (
    Boolean, Column, Date, DateTime, Float, Index, Integer, LargeBinary, Numeric, SmallInteger, Table, Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("scoring")
outbox, inbox = add_bus_tables(metadata)
MONEY = Numeric(18, 4)


def _tables(md):
    customers = Table(
        "customers", md,
        Column("customer_id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("external_id", Text), Column("name", Text), Column("currency", Text),
        Column("segment", Text, nullable=False, server_default="default"),
        Column("collector_id", Text), Column("payment_terms_days", Integer),
        Column("version", Integer, nullable=False, server_default="0"),
    )
    invoices = Table(
        "invoices", md,
        Column("invoice_id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("customer_id", UUID(as_uuid=True), nullable=False),
        Column("number", Text, nullable=False),
        Column("issue_date", Date, nullable=False), Column("due_date", Date, nullable=False),
        Column("currency", Text, nullable=False),
        Column("amount_total", MONEY, nullable=False), Column("open_amount", MONEY, nullable=False),
        Column("status", Text, nullable=False),
        Column("paid_at", DateTime(timezone=True)), Column("settled_on", Date),
        Column("version", Integer, nullable=False),
        Index("ix_invoices_customer", "tenant_id", "customer_id"),
        Index("ix_invoices_issue", "tenant_id", "issue_date", postgresql_include=["amount_total", "currency"]),
        # Aging reads only open invoices: a partial covering index keeps it an index-only scan.
        Index("ix_invoices_open", "tenant_id", "currency", "due_date",
              postgresql_include=["open_amount", "customer_id"], postgresql_where=text("open_amount > 0")),
    )
    allocations = Table(
        "allocations", md,
        Column("payment_id", UUID(as_uuid=True), primary_key=True),
        Column("invoice_id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("amount", MONEY, nullable=False), Column("received_on", Date, nullable=False),
        Column("reversed", Boolean, nullable=False, server_default="false"),
        Index("ix_allocations_invoice", "invoice_id"),
        Index("ix_allocations_received", "tenant_id", "received_on"),
    )
    touches = Table(
        "touches", md,
        Column("message_id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("customer_id", UUID(as_uuid=True), nullable=False),
        Column("channel", Text, nullable=False), Column("sent_at", DateTime(timezone=True)),
        Column("opened", Boolean, nullable=False, server_default="false"),
        Column("replied", Boolean, nullable=False, server_default="false"),
        Index("ix_touches_customer", "tenant_id", "customer_id"),
    )
    models = Table(
        "models", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("version", Text, nullable=False, unique=True),
        Column("kind", Text, nullable=False),  # "production" (trainer) or "evaluation" (eval run)
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("trained_rows", Integer, nullable=False),
        Column("metrics", JSONB, nullable=False), Column("calibration", JSONB, nullable=False),
        Column("artifact", LargeBinary, nullable=False),
        Index("ix_models_tenant", "tenant_id", "id"),
    )
    customer_scores = Table(
        "customer_scores", md,
        Column("customer_id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("risk_band", Text, nullable=False), Column("late_probability", Float, nullable=False),
        Column("delinquency", Text, nullable=False), Column("average_days_to_pay", Float),
        Column("recommended_channel", Text), Column("recommended_send_hour", SmallInteger),
        Column("model_version", Text, nullable=False), Column("scored_at", DateTime(timezone=True), nullable=False),
    )
    invoice_scores = Table(
        "invoice_scores", md,
        Column("invoice_id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("customer_id", UUID(as_uuid=True), nullable=False),
        Column("late_probability", Float, nullable=False),
        Column("p10", Date, nullable=False), Column("p50", Date, nullable=False), Column("p90", Date, nullable=False),
        Column("model_version", Text, nullable=False), Column("scored_at", DateTime(timezone=True), nullable=False),
    )
    return customers, invoices, allocations, touches, models, customer_scores, invoice_scores


customers, invoices, allocations, touches, models, customer_scores, invoice_scores = _tables(metadata)

# Disputes (portal ``dispute_opened``; ended by the scheduler's case status on topic ``task``), keyed
# by the portal request id, which is also the case id. Either event may arrive first.
disputes = Table(
    "disputes", metadata,
    Column("dispute_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("invoice_id", UUID(as_uuid=True)),
    Column("opened_on", Date), Column("resolved_on", Date),
    Index("ix_disputes_invoice", "invoice_id"),
    Index("ix_disputes_customer", "tenant_id", "customer_id"),
)

# Rollups kept by statement triggers on ``invoices`` (migration 0003): aging and DSO read a row per
# day instead of a row per invoice, so they cost the same at a million invoices as at a thousand.
open_by_due = Table(
    "open_by_due", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True), Column("currency", Text, primary_key=True),
    Column("due_date", Date, primary_key=True), Column("open_amount", MONEY, nullable=False),
)
sales_by_day = Table(
    "sales_by_day", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True), Column("currency", Text, primary_key=True),
    Column("issue_date", Date, primary_key=True), Column("amount", MONEY, nullable=False),
)
