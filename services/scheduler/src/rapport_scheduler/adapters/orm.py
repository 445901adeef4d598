"""Tables of the ``scheduler`` schema (all SQL of this service lives in adapters/)."""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, Float, Index, Integer, Numeric, Table, Text, Time, UniqueConstraint, text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP, UUID

from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("scheduler")
outbox, inbox = add_bus_tables(metadata)

TS = TIMESTAMP(timezone=True)
MONEY = Numeric(20, 4)


def _tenant_key(name: str) -> list[Column]:
    return [Column("tenant_id", UUID(as_uuid=True), primary_key=True),
            Column(name, UUID(as_uuid=True), primary_key=True)]


clock = Table(
    "clock", metadata,
    Column("id", Integer, primary_key=True),
    Column("offset_seconds", Float, nullable=False, server_default="0"),
    Column("changed_at", TS, nullable=False, server_default=text("now()")),
)

policies = Table(
    "policies", metadata,
    Column("policy_id", UUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("priority", Integer),
    Column("spec", JSONB, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", TS, nullable=False),
    Column("created_by", Text),
)

customers = Table(
    "customers", metadata, *_tenant_key("customer_id"),
    Column("name", Text, nullable=False),
    Column("external_id", Text),
    Column("country", Text), Column("region", Text), Column("industry", Text), Column("size", Text),
    Column("tags", JSONB, nullable=False, server_default="[]"),
    Column("time_zone", Text, nullable=False, server_default="UTC"),
    Column("locale", Text, nullable=False, server_default="en"),
    Column("currency", Text),
    Column("risk_band", Text),
    Column("hold", Boolean, nullable=False, server_default="false"),
    Column("policy_override", UUID(as_uuid=True)),
    Column("policy_id", UUID(as_uuid=True)),
    Column("policy_version", Integer),
    Column("last_message_on", Date),
    Column("replied_at", TS),
    Column("broken_promises", Integer, nullable=False, server_default="0"),
    Column("collector", Text), Column("collector_email", Text),
    # Set by a manual reassignment: the ERP's later upserts no longer move the customer.
    Column("collector_manual", Boolean, nullable=False, server_default="false"),
    Column("account_executive", Text), Column("customer_success", Text),
    Column("version", Integer, nullable=False, server_default="0"),
    # Room on each page so the ticker's and consumers' updates stay heap-only (migration 0007).
    postgresql_with={"fillfactor": 70},
)

contacts = Table(
    "contacts", metadata, *_tenant_key("contact_id"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text), Column("phone", Text), Column("preferred_channel", Text),
    Column("locale", Text), Column("time_zone", Text), Column("role", Text),
    Column("is_primary", Boolean, nullable=False, server_default="false"),
    Column("consent_email", Boolean, nullable=False, server_default="true"),
    Column("consent_sms", Boolean, nullable=False, server_default="false"),
    Column("opted_out", JSONB, nullable=False, server_default="[]"),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_contacts_customer", "tenant_id", "customer_id"),
)

invoices = Table(
    "invoices", metadata, *_tenant_key("invoice_id"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("number", Text, nullable=False),
    Column("issue_date", Date, nullable=False), Column("due_date", Date, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount_total", MONEY, nullable=False), Column("open_amount", MONEY, nullable=False),
    Column("status", Text, nullable=False),
    Column("pdf_url", Text),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("stage_offset", Integer), Column("stage", Text),
    Column("disputed", Boolean, nullable=False, server_default="false"),
    Column("promise_until", Date),
    Column("plan_id", UUID(as_uuid=True)),
    Column("policy_id", UUID(as_uuid=True)), Column("policy_version", Integer),
    Column("last_touch_at", TS),
    Column("tags", JSONB, nullable=False, server_default="[]"),
    Index("ix_invoices_customer", "tenant_id", "customer_id"),
    postgresql_with={"fillfactor": 70},  # see customers
)

plans = Table(
    "plans", metadata, *_tenant_key("plan_id"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("invoice_ids", JSONB, nullable=False),
    Column("currency", Text, nullable=False),
    Column("instalments", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("request_id", UUID(as_uuid=True)),  # the portal request: case events are keyed by it
    Index("ix_plans_customer", "tenant_id", "customer_id"),
)

timers = Table(
    "timers", metadata, *_tenant_key("customer_id"),
    Column("due_at", TS),
    # The event that made the customer due, so what the ticker emits carries its causation.
    Column("cause_id", UUID(as_uuid=True)), Column("correlation_id", UUID(as_uuid=True)),
    Index("ix_timers_due", "due_at", postgresql_where=text("due_at IS NOT NULL")),
)

touchpoints = Table(
    "touchpoints", metadata,
    Column("touchpoint_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("send_day", Date, nullable=False),
    Column("stage", Text, nullable=False), Column("channel", Text, nullable=False),
    Column("template_key", Text, nullable=False), Column("tone", Text, nullable=False),
    Column("policy_id", UUID(as_uuid=True)), Column("policy_version", Integer),
    Column("invoice_ids", JSONB, nullable=False),
    Column("currency", Text, nullable=False), Column("total_open", MONEY, nullable=False),
    Column("send_not_before", TS, nullable=False), Column("send_not_after", TS, nullable=False),
    Column("decided_at", TS, nullable=False),
    # The database itself refuses a second message to one customer on one day.
    UniqueConstraint("tenant_id", "customer_id", "send_day", name="uq_touchpoints_customer_day"),
)

tasks = Table(
    "tasks", metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False), Column("reason", Text, nullable=False),
    Column("invoice_ids", JSONB, nullable=False, server_default="[]"),
    Column("status", Text, nullable=False, server_default="open"),
    Column("assignee", Text),
    Column("created_at", TS, nullable=False), Column("closed_at", TS),
    Column("outcome", Text), Column("note", Text),
    # What the task is about, when it is one thing: subject_kind 'message' (an uncertain send, closed when
    # outreach settles that message) or 'plan' (a requested payment plan to review).
    Column("subject_kind", Text), Column("subject_id", UUID(as_uuid=True)),
    Index("ix_tasks_open", "tenant_id", "status"),
    Index("ix_tasks_subject", "tenant_id", "subject_id", postgresql_where=text("subject_id IS NOT NULL")),
)

cases = Table(
    "cases", metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False), Column("status", Text, nullable=False),
    Column("invoice_ids", JSONB, nullable=False, server_default="[]"),
    Column("promised_date", Date), Column("amount", MONEY), Column("currency", Text),
    Column("created_at", TS, nullable=False),
    Index("ix_cases_customer", "tenant_id", "customer_id"),
)

timeline = Table(
    "timeline", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("ref_id", UUID(as_uuid=True)),
    Column("author", Text),
    Index("ix_timeline_customer", "tenant_id", "customer_id", "at"),
)

tenant_settings = Table(
    "tenant_settings", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("quiet_start", Time), Column("quiet_end", Time),  # both or neither
    Column("updated_at", TS, nullable=False),
    Column("updated_by", Text),
)

assignment_rules = Table(
    "assignment_rules", metadata,
    Column("rule_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("region", Text), Column("size", Text), Column("industry", Text),
    Column("collector", Text, nullable=False), Column("collector_email", Text),
    Column("priority", Integer, nullable=False, server_default="0"),
)
