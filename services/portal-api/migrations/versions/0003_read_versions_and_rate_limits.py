"""read-model versions (invoice-list cache) and shared sign-in rate limits

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Row-level, so every write path (projections today, anything later) moves the version; the old
# customer's list changes too when an invoice is moved to another customer.
BUMP_FUNCTION = """
CREATE FUNCTION portal.bump_invoice_list_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO portal.read_versions AS v (tenant_id, customer_id, version)
        VALUES (OLD.tenant_id, OLD.customer_id, 1)
        ON CONFLICT (tenant_id, customer_id) DO UPDATE SET version = v.version + 1;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.customer_id IS DISTINCT FROM OLD.customer_id) THEN
        INSERT INTO portal.read_versions AS v (tenant_id, customer_id, version)
        VALUES (NEW.tenant_id, NEW.customer_id, 1)
        ON CONFLICT (tenant_id, customer_id) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "read_versions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_read_versions"),
        schema="portal",
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limits"),
        schema="portal",
    )
    op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"], schema="portal")
    op.execute(BUMP_FUNCTION)
    op.execute("CREATE TRIGGER invoices_bump_list_version AFTER INSERT OR UPDATE OR DELETE ON portal.invoices "
               "FOR EACH ROW EXECUTE FUNCTION portal.bump_invoice_list_version()")


def downgrade() -> None:
    op.execute("DROP TRIGGER invoices_bump_list_version ON portal.invoices")
    op.execute("DROP FUNCTION portal.bump_invoice_list_version()")
    op.drop_index("ix_rate_limits_expires_at", table_name="rate_limits", schema="portal")
    op.drop_table("rate_limits", schema="portal")
    op.drop_table("read_versions", schema="portal")
