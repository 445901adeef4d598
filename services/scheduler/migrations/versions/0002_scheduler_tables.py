"""scheduler read model, policies, timers, touchpoints, worklist

Revision ID: 0002
Revises: 0001

Frozen DDL: this migration must not follow the ORM module as it changes later (new columns go in
new migrations); tests/integration/test_scheduler_migrations.py checks head against the ORM.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "scheduler"
TABLES = ("clock", "policies", "customers", "contacts", "invoices", "plans", "timers", "touchpoints", "tasks",
          "cases", "timeline", "assignment_rules")
TS = postgresql.TIMESTAMP(timezone=True)
MONEY = sa.Numeric(precision=20, scale=4)
JSONB = postgresql.JSONB(astext_type=sa.Text())


def _col(name: str, type_, nullable: bool = True, default: str | None = None) -> sa.Column:
    return sa.Column(name, type_, nullable=nullable, server_default=default)


def _req(name: str, type_, default: str | None = None) -> sa.Column:
    return _col(name, type_, False, default)


def _texts(*names: str) -> list[sa.Column]:
    return [_col(n, sa.Text()) for n in names]


def _table(name: str, *columns, pk: tuple[str, ...], index: tuple[str, list[str]] | None = None) -> None:
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*pk, name=f"pk_{name}"), schema=SCHEMA)
    if index is not None:
        op.create_index(index[0], name, index[1], unique=False, schema=SCHEMA)


def upgrade() -> None:
    _table("clock", _req("id", sa.Integer()), _req("offset_seconds", sa.Float(), "0"),
           _req("changed_at", TS, sa.text("now()")), pk=("id",))
    _table("policies", _req("policy_id", sa.UUID()), _req("version", sa.Integer()), _req("tenant_id", sa.UUID()),
           _req("name", sa.Text()), _col("priority", sa.Integer()), _req("spec", JSONB),
           _req("active", sa.Boolean(), "true"), _req("created_at", TS), _col("created_by", sa.Text()),
           pk=("policy_id", "version"), index=("ix_scheduler_policies_tenant_id", ["tenant_id"]))
    _customers()
    _contacts()
    _invoices()
    _table("plans", _req("tenant_id", sa.UUID()), _req("plan_id", sa.UUID()), _req("customer_id", sa.UUID()),
           _req("invoice_ids", JSONB), _req("currency", sa.Text()), _req("instalments", JSONB),
           _req("status", sa.Text()), pk=("tenant_id", "plan_id"),
           index=("ix_plans_customer", ["tenant_id", "customer_id"]))
    _table("timers", _req("tenant_id", sa.UUID()), _req("customer_id", sa.UUID()), _col("due_at", TS),
           pk=("tenant_id", "customer_id"))
    op.create_index("ix_timers_due", "timers", ["due_at"], unique=False, schema=SCHEMA,
                    postgresql_where=sa.text("due_at IS NOT NULL"))
    _touchpoints()
    _worklist()
    op.execute("INSERT INTO scheduler.clock (id, offset_seconds) VALUES (1, 0)")


def _customers() -> None:
    _table("customers", _req("tenant_id", sa.UUID()), _req("customer_id", sa.UUID()), _req("name", sa.Text()),
           *_texts("external_id", "country", "region", "industry", "size"),
           _req("tags", JSONB, "[]"), _req("time_zone", sa.Text(), "UTC"), _req("locale", sa.Text(), "en"),
           *_texts("currency", "risk_band"), _req("hold", sa.Boolean(), "false"),
           _col("policy_override", sa.UUID()), _col("policy_id", sa.UUID()), _col("policy_version", sa.Integer()),
           _col("last_message_on", sa.Date()), _col("replied_at", TS), _req("broken_promises", sa.Integer(), "0"),
           *_texts("collector", "collector_email", "account_executive", "customer_success"),
           _req("version", sa.Integer(), "0"), pk=("tenant_id", "customer_id"))


def _contacts() -> None:
    _table("contacts", _req("tenant_id", sa.UUID()), _req("contact_id", sa.UUID()), _req("customer_id", sa.UUID()),
           _req("name", sa.Text()), *_texts("email", "phone", "preferred_channel", "locale", "time_zone", "role"),
           _req("is_primary", sa.Boolean(), "false"), _req("consent_email", sa.Boolean(), "true"),
           _req("consent_sms", sa.Boolean(), "false"), _req("opted_out", JSONB, "[]"),
           _req("active", sa.Boolean(), "true"), _req("version", sa.Integer(), "0"),
           pk=("tenant_id", "contact_id"), index=("ix_contacts_customer", ["tenant_id", "customer_id"]))


def _invoices() -> None:
    _table("invoices", _req("tenant_id", sa.UUID()), _req("invoice_id", sa.UUID()), _req("customer_id", sa.UUID()),
           _req("number", sa.Text()), _req("issue_date", sa.Date()), _req("due_date", sa.Date()),
           _req("currency", sa.Text()), _req("amount_total", MONEY), _req("open_amount", MONEY),
           _req("status", sa.Text()), _col("pdf_url", sa.Text()), _req("version", sa.Integer(), "0"),
           _col("stage_offset", sa.Integer()), _col("stage", sa.Text()), _req("disputed", sa.Boolean(), "false"),
           _col("promise_until", sa.Date()), _col("plan_id", sa.UUID()), _col("policy_id", sa.UUID()),
           _col("policy_version", sa.Integer()), _col("last_touch_at", TS), _req("tags", JSONB, "[]"),
           pk=("tenant_id", "invoice_id"), index=("ix_invoices_customer", ["tenant_id", "customer_id"]))


def _touchpoints() -> None:
    op.create_table(
        "touchpoints", _req("touchpoint_id", sa.UUID()), _req("tenant_id", sa.UUID()), _req("customer_id", sa.UUID()),
        _req("send_day", sa.Date()), _req("stage", sa.Text()), _req("channel", sa.Text()),
        _req("template_key", sa.Text()), _req("tone", sa.Text()), _col("policy_id", sa.UUID()),
        _col("policy_version", sa.Integer()), _req("invoice_ids", JSONB), _req("currency", sa.Text()),
        _req("total_open", MONEY), _req("send_not_before", TS), _req("send_not_after", TS), _req("decided_at", TS),
        sa.PrimaryKeyConstraint("touchpoint_id", name="pk_touchpoints"),
        # The database itself refuses a second message to one customer on one day.
        sa.UniqueConstraint("tenant_id", "customer_id", "send_day", name="uq_touchpoints_customer_day"),
        schema=SCHEMA)


def _worklist() -> None:
    _table("tasks", _req("task_id", sa.UUID()), _req("tenant_id", sa.UUID()), _req("customer_id", sa.UUID()),
           _req("kind", sa.Text()), _req("reason", sa.Text()), _req("invoice_ids", JSONB, "[]"),
           _req("status", sa.Text(), "open"), _col("assignee", sa.Text()), _req("created_at", TS),
           _col("closed_at", TS), *_texts("outcome", "note"), pk=("task_id",),
           index=("ix_tasks_open", ["tenant_id", "status"]))
    _table("cases", _req("case_id", sa.UUID()), _req("tenant_id", sa.UUID()), _req("customer_id", sa.UUID()),
           _req("kind", sa.Text()), _req("status", sa.Text()), _req("invoice_ids", JSONB, "[]"),
           _col("promised_date", sa.Date()), _col("amount", MONEY), _col("currency", sa.Text()),
           _req("created_at", TS), pk=("case_id",), index=("ix_cases_customer", ["tenant_id", "customer_id"]))
    _table("timeline", sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
           _req("tenant_id", sa.UUID()), _req("customer_id", sa.UUID()), _req("at", TS), _req("kind", sa.Text()),
           _req("summary", sa.Text()), _col("ref_id", sa.UUID()), _col("author", sa.Text()), pk=("id",),
           index=("ix_timeline_customer", ["tenant_id", "customer_id", "at"]))
    _table("assignment_rules", _req("rule_id", sa.UUID()), _req("tenant_id", sa.UUID()),
           *_texts("region", "size", "industry"), _req("collector", sa.Text()), _col("collector_email", sa.Text()),
           _req("priority", sa.Integer(), "0"), pk=("rule_id",),
           index=("ix_scheduler_assignment_rules_tenant_id", ["tenant_id"]))


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name, schema=SCHEMA)
