"""aging and sales rollups kept by statement triggers on invoices

Revision ID: 0003
Revises: 0002

Aging and DSO over a million invoices must answer in well under a second. Open amounts per
due date and sales per issue date are maintained by statement-level triggers (set-based:
one aggregate per statement, so a COPY of a million rows or a consumer batch costs one
grouped upsert, in key order), and backfilled here from the invoices already stored.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "scoring"
MONEY = sa.Numeric(18, 4)

OPS = {"insert": [("rollup_new", "")], "update": [("rollup_new", ""), ("rollup_old", "-")],
       "delete": [("rollup_old", "-")]}


def _deltas(sources, key: str, value: str, where: str) -> str:
    return "\n      UNION ALL\n".join(
        f"      SELECT tenant_id, currency, {key}, {sign}{value} AS delta FROM {table}{where}" for table, sign in sources)


def _upsert(target: str, key: str, column: str, deltas: str) -> str:
    return f"""
  INSERT INTO scoring.{target} AS r (tenant_id, currency, {key}, {column})
  SELECT tenant_id, currency, {key}, sum(delta) FROM (
{deltas}) d
  GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, currency, {key}) DO UPDATE SET {column} = r.{column} + EXCLUDED.{column};"""


def _function(op_name: str) -> str:
    sources = OPS[op_name]
    open_sql = _upsert("open_by_due", "due_date", "open_amount",
                       _deltas(sources, "due_date", "open_amount", " WHERE open_amount > 0"))
    sales_sql = _upsert("sales_by_day", "issue_date", "amount", _deltas(sources, "issue_date", "amount_total", ""))
    return (f"CREATE FUNCTION scoring.invoices_rollup_{op_name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN{open_sql}{sales_sql}\n  RETURN NULL;\nEND $$;")


def _trigger(op_name: str) -> str:
    tables = {"insert": "NEW TABLE AS rollup_new", "update": "OLD TABLE AS rollup_old NEW TABLE AS rollup_new",
              "delete": "OLD TABLE AS rollup_old"}[op_name]
    return (f"CREATE TRIGGER invoices_rollup_{op_name} AFTER {op_name.upper()} ON scoring.invoices "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION scoring.invoices_rollup_{op_name}()")


def upgrade() -> None:
    for name, key, column in (("open_by_due", "due_date", "open_amount"), ("sales_by_day", "issue_date", "amount")):
        op.create_table(
            name,
            sa.Column("tenant_id", UUID(as_uuid=True), nullable=False), sa.Column("currency", sa.Text(), nullable=False),
            sa.Column(key, sa.Date(), nullable=False), sa.Column(column, MONEY, nullable=False),
            sa.PrimaryKeyConstraint("tenant_id", "currency", key, name=f"pk_{name}"), schema=SCHEMA,
        )
    for op_name in OPS:
        op.execute(_function(op_name))
        op.execute(_trigger(op_name))
    op.execute("""INSERT INTO scoring.open_by_due (tenant_id, currency, due_date, open_amount)
                  SELECT tenant_id, currency, due_date, sum(open_amount) FROM scoring.invoices
                  WHERE open_amount > 0 GROUP BY 1, 2, 3""")
    op.execute("""INSERT INTO scoring.sales_by_day (tenant_id, currency, issue_date, amount)
                  SELECT tenant_id, currency, issue_date, sum(amount_total) FROM scoring.invoices GROUP BY 1, 2, 3""")


def downgrade() -> None:
    for op_name in OPS:
        op.execute(f"DROP TRIGGER invoices_rollup_{op_name} ON scoring.invoices")
        op.execute(f"DROP FUNCTION scoring.invoices_rollup_{op_name}()")
    op.drop_table("sales_by_day", schema=SCHEMA)
    op.drop_table("open_by_due", schema=SCHEMA)
