"""the ledger: tenants, keys, customers, contacts, invoices, credit notes, payments, allocations,
adjustments, idempotency keys, import jobs, webhook records, status read-back

Written out as explicit DDL (not built from the live ORM module) so that this revision keeps
creating exactly what it created when it was written, whatever the ORM says later; later changes
go in later revisions. ``tests/integration/test_ingest_migrations.py`` checks that head == ORM.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "ingest"
UUID = pg.UUID(as_uuid=True)
MONEY = sa.Numeric(20, 4)
TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", UUID, nullable=False)


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", UUID, nullable=False)


def _created() -> sa.Column:
    return sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False)


def _version() -> sa.Column:
    return sa.Column("version", sa.Integer(), server_default="1", nullable=False)


def _money(name: str, default: str | None = None) -> sa.Column:
    return sa.Column(name, MONEY, server_default=default, nullable=False)


def _identity_id() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _table(name: str, key: tuple[str, ...], *items) -> None:
    """One table of the schema with its primary key ``key`` named as the ORM's naming convention names it."""
    op.create_table(name, *items, sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"), schema=SCHEMA)


def _parties() -> None:
    _table("tenants", ("id",), _id(), sa.Column("name", sa.Text(), nullable=False),
           sa.Column("cash_application_policy", sa.Text(), server_default="oldest_first", nullable=False), _created())
    _table("api_keys", ("id",), _id(), _tenant(), sa.Column("name", sa.Text(), nullable=False),
           sa.Column("scope", sa.Text(), nullable=False), sa.Column("prefix", sa.Text(), nullable=False),
           sa.Column("secret_hash", sa.Text(), nullable=False), sa.Column("revoked_at", TZ, nullable=True), _created(),
           sa.ForeignKeyConstraint(["tenant_id"], [f"{SCHEMA}.tenants.id"], name="fk_api_keys_tenant_id_tenants"),
           sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"))
    _table("customers", ("id",), _id(), _tenant(), sa.Column("external_id", sa.Text(), nullable=False),
           sa.Column("name", sa.Text(), nullable=False), sa.Column("currency", sa.Text(), nullable=False),
           sa.Column("attributes", pg.JSONB(), server_default="{}", nullable=False),
           sa.Column("source_updated_at", TZ, nullable=True), _version(), _created(),
           sa.UniqueConstraint("tenant_id", "external_id", name="uq_customers_tenant_id_external_id"))
    _table("contacts", ("id",), _id(), _tenant(), sa.Column("customer_id", UUID, nullable=False),
           sa.Column("external_id", sa.Text(), nullable=False), sa.Column("attributes", pg.JSONB(), nullable=False),
           _version(),
           sa.ForeignKeyConstraint(["customer_id"], [f"{SCHEMA}.customers.id"],
                                   name="fk_contacts_customer_id_customers"),
           sa.UniqueConstraint("tenant_id", "customer_id", "external_id",
                               name="uq_contacts_tenant_id_customer_id_external_id"))


def _invoices() -> None:
    _table("invoices", ("id",), _id(), _tenant(), sa.Column("customer_id", UUID, nullable=False),
           sa.Column("number", sa.Text(), nullable=False), sa.Column("issue_date", sa.Date(), nullable=False),
           sa.Column("due_date", sa.Date(), nullable=False), sa.Column("currency", sa.Text(), nullable=False),
           _money("amount_total"), _money("tax_amount", "0"), _money("paid_amount", "0"),
           _money("credited_amount", "0"), _money("written_off_amount", "0"), _money("open_amount"),
           sa.Column("status", sa.Text(), nullable=False), sa.Column("po_number", sa.Text(), nullable=True),
           sa.Column("terms", sa.Text(), nullable=True), sa.Column("pdf_url", sa.Text(), nullable=True),
           sa.Column("lines", pg.JSONB(), server_default="[]", nullable=False),
           sa.Column("paid_at", TZ, nullable=True), sa.Column("source_updated_at", TZ, nullable=True),
           _version(), _created(),
           sa.UniqueConstraint("tenant_id", "number", name="uq_invoices_tenant_id_number"))
    op.create_index("ix_invoices_open", "invoices", ["tenant_id", "customer_id", "due_date"], schema=SCHEMA)
    _table("credit_notes", ("id",), _id(), _tenant(), sa.Column("customer_id", UUID, nullable=False),
           sa.Column("number", sa.Text(), nullable=False), sa.Column("issue_date", sa.Date(), nullable=False),
           sa.Column("currency", sa.Text(), nullable=False), _money("amount"), _money("unapplied_amount"),
           sa.Column("reason", sa.Text(), nullable=True), _version(), _created(),
           sa.UniqueConstraint("tenant_id", "number", name="uq_credit_notes_tenant_id_number"))
    _table("adjustments", ("id",), _id(), _tenant(), sa.Column("invoice_id", UUID, nullable=False),
           sa.Column("kind", sa.Text(), nullable=False), _money("amount"),
           sa.Column("reason", sa.Text(), nullable=True), _created())


def _payments() -> None:
    _table("payments", ("id",), _id(), _tenant(), sa.Column("customer_id", UUID, nullable=True),
           sa.Column("external_id", sa.Text(), nullable=False), _money("amount"),
           sa.Column("currency", sa.Text(), nullable=False), sa.Column("received_on", sa.Date(), nullable=False),
           sa.Column("method", sa.Text(), nullable=True), sa.Column("reference", sa.Text(), nullable=True),
           sa.Column("remittance_text", sa.Text(), nullable=True), sa.Column("source", sa.Text(), nullable=False),
           _money("unapplied_amount"), _money("refunded_amount", "0"),
           sa.Column("match_rule", sa.Text(), nullable=True),
           sa.Column("needs_review", sa.Boolean(), server_default="false", nullable=False),
           sa.Column("review_reason", sa.Text(), nullable=True), _created(),
           sa.UniqueConstraint("tenant_id", "external_id", name="uq_payments_tenant_id_external_id"))
    _table("allocations", ("id",), _identity_id(), _tenant(), sa.Column("invoice_id", UUID, nullable=False),
           sa.Column("payment_id", UUID, nullable=True), sa.Column("credit_note_id", UUID, nullable=True),
           sa.Column("kind", sa.Text(), nullable=False), _money("amount"),
           sa.Column("rule", sa.Text(), nullable=True), sa.Column("reason", sa.Text(), nullable=True), _created())
    op.create_index("ix_allocations_payment", "allocations", ["payment_id"], schema=SCHEMA)
    op.create_index("ix_allocations_invoice", "allocations", ["invoice_id"], schema=SCHEMA)
    _table("pending_payments", ("tenant_id", "checkout_session_id"),
           _tenant(), sa.Column("checkout_session_id", sa.Text(), nullable=False),
           sa.Column("customer_id", UUID, nullable=False), sa.Column("invoice_ids", pg.ARRAY(UUID), nullable=False),
           _money("amount"), sa.Column("currency", sa.Text(), nullable=False),
           sa.Column("status", sa.Text(), server_default="initiated", nullable=False), _created())


def _operations() -> None:
    _table("idempotency_keys", ("tenant_id", "key"), _tenant(), sa.Column("key", sa.Text(), nullable=False),
           sa.Column("request_hash", sa.Text(), nullable=False), sa.Column("status_code", sa.Integer(), nullable=False),
           sa.Column("response", pg.JSONB(), nullable=False), _created())
    _table("import_jobs", ("id",), _id(), _tenant(), sa.Column("kind", sa.Text(), nullable=False),
           sa.Column("format", sa.Text(), nullable=False), sa.Column("preset", sa.Text(), nullable=False),
           sa.Column("mapping", pg.JSONB(), nullable=True), sa.Column("content", sa.LargeBinary(), nullable=True),
           sa.Column("status", sa.Text(), nullable=False),
           sa.Column("rows_total", sa.Integer(), server_default="0", nullable=False),
           sa.Column("rows_done", sa.Integer(), server_default="0", nullable=False),
           sa.Column("rows_failed", sa.Integer(), server_default="0", nullable=False),
           sa.Column("detail", sa.Text(), nullable=True), _created(), sa.Column("finished_at", TZ, nullable=True))
    _table("import_errors", ("id",), _identity_id(), sa.Column("job_id", UUID, nullable=False),
           sa.Column("row", sa.Integer(), nullable=False), sa.Column("field", sa.Text(), nullable=True),
           sa.Column("reason", sa.Text(), nullable=False))
    op.create_index("ix_ingest_import_errors_job_id", "import_errors", ["job_id"], schema=SCHEMA)
    _table("stripe_events", ("event_id",), sa.Column("event_id", sa.Text(), nullable=False),
           sa.Column("type", sa.Text(), nullable=False), sa.Column("tenant_id", UUID, nullable=True),
           sa.Column("outcome", sa.Text(), nullable=False), _created())
    _table("webhook_rejections", ("id",), _identity_id(), sa.Column("provider", sa.Text(), nullable=False),
           sa.Column("reason", sa.Text(), nullable=False), sa.Column("signature", sa.Text(), nullable=True),
           sa.Column("body_sha256", sa.Text(), nullable=False), _created())
    _table("account_status", ("tenant_id", "subject_id"), _tenant(), sa.Column("subject_id", UUID, nullable=False),
           sa.Column("subject_kind", sa.Text(), nullable=False),
           sa.Column("facts", pg.JSONB(), server_default="{}", nullable=False))


def upgrade() -> None:
    _parties()
    _invoices()
    _payments()
    _operations()


TABLES = ("account_status", "webhook_rejections", "stripe_events", "import_errors", "import_jobs",
          "idempotency_keys", "pending_payments", "allocations", "payments", "adjustments", "credit_notes",
          "invoices", "contacts", "customers", "api_keys", "tenants")


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name, schema=SCHEMA)
