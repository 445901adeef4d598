"""room on the pages of the rows the ticker rewrites, so those updates stay on their page (HOT)

The ticker rewrites each claimed customer's row and its invoices' stage columns in every batch. None of
the invoice or customer columns it (or the consumer's snapshot upsert) sets is indexed, so with free space
on the page Postgres keeps the new version beside the old one and adds no index entries (a heap-only
tuple); at the default fillfactor of 100 the pages are full and every update moves the row to another page
and inserts a new entry into every index of the table. Measured with the bench's drain (every row of a
page rewritten in one pass, the worst case): fillfactor 100 -> 0% heap-only, 80 -> ~40%, 60 -> ~75% and
~10% less backend CPU per touchpoint; 70 is the compromise with table size. Timers change ``due_at``,
which ``ix_timers_due`` covers, so theirs can never be heap-only: they keep the default.

Only pages written from now on keep the room (existing pages fill up as before until they are rewritten,
e.g. by ``VACUUM FULL``/``pg_repack`` in a quiet window); no data is rewritten here.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FILLFACTOR = {"invoices": 70, "customers": 70}


def upgrade() -> None:
    for table, fillfactor in FILLFACTOR.items():
        op.execute(f"ALTER TABLE scheduler.{table} SET (fillfactor = {fillfactor})")


def downgrade() -> None:
    for table in FILLFACTOR:
        op.execute(f"ALTER TABLE scheduler.{table} RESET (fillfactor)")
