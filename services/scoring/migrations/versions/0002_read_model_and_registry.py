"""read model, model registry, last announced scores

Revision ID: 0002
Revises: 0001

Frozen DDL: a migration must not read the live ORM, or changing the ORM would rewrite history.
``tests/integration/test_scoring_migrations.py`` checks the migrated schema still equals the ORM.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "scoring"
MONEY = sa.Numeric(18, 4)
ID = UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def _read_model() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", ID, nullable=False), sa.Column("tenant_id", ID, nullable=False),
        sa.Column("external_id", sa.Text()), sa.Column("name", sa.Text()), sa.Column("currency", sa.Text()),
        sa.Column("segment", sa.Text(), nullable=False, server_default="default"),
        sa.Column("collector_id", sa.Text()), sa.Column("payment_terms_days", sa.Integer()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customers"), schema=SCHEMA,
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", ID, nullable=False), sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False), sa.Column("number", sa.Text(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False), sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("amount_total", MONEY, nullable=False), sa.Column("open_amount", MONEY, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("paid_at", TS), sa.Column("settled_on", sa.Date()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_invoices"), schema=SCHEMA,
    )
    op.create_index("ix_invoices_customer", "invoices", ["tenant_id", "customer_id"], schema=SCHEMA)
    op.create_index("ix_invoices_issue", "invoices", ["tenant_id", "issue_date"], schema=SCHEMA,
                    postgresql_include=["amount_total", "currency"])
    op.create_index("ix_invoices_open", "invoices", ["tenant_id", "currency", "due_date"], schema=SCHEMA,
                    postgresql_include=["open_amount", "customer_id"], postgresql_where=sa.text("open_amount > 0"))
    op.create_table(
        "allocations",
        sa.Column("payment_id", ID, nullable=False), sa.Column("invoice_id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False), sa.Column("amount", MONEY, nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reversed", sa.Boolean(), nullable=False, server_default="false"),
        sa.PrimaryKeyConstraint("payment_id", "invoice_id", name="pk_allocations"), schema=SCHEMA,
    )
    op.create_index("ix_allocations_invoice", "allocations", ["invoice_id"], schema=SCHEMA)
    op.create_index("ix_allocations_received", "allocations", ["tenant_id", "received_on"], schema=SCHEMA)
    op.create_table(
        "touches",
        sa.Column("message_id", ID, nullable=False), sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False), sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("opened", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("replied", sa.Boolean(), nullable=False, server_default="false"),
        sa.PrimaryKeyConstraint("message_id", name="pk_touches"), schema=SCHEMA,
    )
    op.create_index("ix_touches_customer", "touches", ["tenant_id", "customer_id"], schema=SCHEMA)


def _registry_and_scores() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False), sa.Column("tenant_id", ID, nullable=False),
        sa.Column("version", sa.Text(), nullable=False), sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False), sa.Column("trained_rows", sa.Integer(), nullable=False),
        sa.Column("metrics", JSONB(), nullable=False), sa.Column("calibration", JSONB(), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("version", name="uq_models_version"), schema=SCHEMA,
    )
    op.create_index("ix_models_tenant", "models", ["tenant_id", "id"], schema=SCHEMA)
    op.create_table(
        "customer_scores",
        sa.Column("customer_id", ID, nullable=False), sa.Column("tenant_id", ID, nullable=False),
        sa.Column("risk_band", sa.Text(), nullable=False), sa.Column("late_probability", sa.Float(), nullable=False),
        sa.Column("delinquency", sa.Text(), nullable=False), sa.Column("average_days_to_pay", sa.Float()),
        sa.Column("recommended_channel", sa.Text()), sa.Column("recommended_send_hour", sa.SmallInteger()),
        sa.Column("model_version", sa.Text(), nullable=False), sa.Column("scored_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_scores"), schema=SCHEMA,
    )
    op.create_table(
        "invoice_scores",
        sa.Column("invoice_id", ID, nullable=False), sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False), sa.Column("late_probability", sa.Float(), nullable=False),
        sa.Column("p10", sa.Date(), nullable=False), sa.Column("p50", sa.Date(), nullable=False),
        sa.Column("p90", sa.Date(), nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False), sa.Column("scored_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_invoice_scores"), schema=SCHEMA,
    )


def upgrade() -> None:
    _read_model()
    _registry_and_scores()


def downgrade() -> None:
    for table in ("invoice_scores", "customer_scores", "models", "touches", "allocations", "invoices", "customers"):
        op.drop_table(table, schema=SCHEMA)
