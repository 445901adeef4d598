"""the ledger: tenants, keys, customers, contacts, invoices, credit notes, payments, allocations,
adjustments, idempotency keys, import jobs, webhook records, status read-back

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "tenants", "api_keys", "customers", "contacts", "invoices", "credit_notes", "payments",
    "allocations", "adjustments", "idempotency_keys", "import_jobs", "import_errors",
    "stripe_events", "webhook_rejections", "account_status", "pending_payments",
)


def _tables():
    # The first ledger revision is the model as written; later revisions alter it explicitly.
    from rapport_ingest.adapters.orm import metadata

    return [metadata.tables[f"ingest.{name}"] for name in TABLES]


def upgrade() -> None:
    from rapport_ingest.adapters.orm import metadata

    metadata.create_all(op.get_bind(), tables=_tables())


def downgrade() -> None:
    from rapport_ingest.adapters.orm import metadata

    metadata.drop_all(op.get_bind(), tables=list(reversed(_tables())))
