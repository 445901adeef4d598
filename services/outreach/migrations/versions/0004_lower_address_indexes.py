"""case-insensitive address indexes for reply and inbound matching

Revision ID: 0004
Revises: 0003

Inbound replies (SendGrid Inbound Parse, Twilio inbound SMS) find the latest message to an address
with ``lower(to_address) = :address`` and the contacts with ``lower(email|phone)``; the plain
column indexes could not serve those predicates, so each reply scanned every message ever sent.
The unused ``ix_messages_to`` (plain ``to_address``) is replaced, one index less on the hot insert.

Built CONCURRENTLY (outside the migration's transaction) when ``messages`` or ``contacts`` is
large, so the table keeps taking writes while the index is built. Small tables (a new install,
a test database) get plain statements: a concurrent build waits for every open transaction in
the whole database, even ones of other services' schemas, and gains nothing on a table that
indexes in milliseconds.
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "outreach"


NEW = ("ix_messages_to_lower", "ix_contacts_email_lower", "ix_contacts_phone_lower")
LARGE_PAGES = 1000  # ~8 MB: above this, build and drop CONCURRENTLY


def _how() -> str:
    """``CONCURRENTLY`` when either table is large enough for a plain build to block writers noticeably."""
    pages = op.get_bind().exec_driver_sql(
        "SELECT coalesce(max(c.relpages), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %(schema)s AND c.relname IN ('messages', 'contacts')", {"schema": SCHEMA}).scalar()
    return "CONCURRENTLY " if pages > LARGE_PAGES else ""


def _drop_invalid(names: tuple[str, ...]) -> None:
    """A CONCURRENTLY build that failed (or was killed) leaves an invalid index behind, which
    IF NOT EXISTS would then keep for good: drop such leftovers so the build runs again."""
    bind = op.get_bind()
    invalid = bind.exec_driver_sql(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(schema)s "
        "AND c.relname = ANY(%(names)s) AND NOT i.indisvalid", {"schema": SCHEMA, "names": list(names)}).scalars().all()
    for name in invalid:
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SCHEMA}.{name}")


def upgrade() -> None:
    with op.get_context().autocommit_block():
        how = _how()
        _drop_invalid(NEW)
        op.execute(f"CREATE INDEX {how}IF NOT EXISTS ix_messages_to_lower ON {SCHEMA}.messages "
                   "(lower(to_address), channel, created_at)")
        op.execute(f"CREATE INDEX {how}IF NOT EXISTS ix_contacts_email_lower ON {SCHEMA}.contacts "
                   "(lower(email))")
        op.execute(f"CREATE INDEX {how}IF NOT EXISTS ix_contacts_phone_lower ON {SCHEMA}.contacts "
                   "(lower(phone))")
        op.execute(f"DROP INDEX {how}IF EXISTS {SCHEMA}.ix_messages_to")
        op.execute(f"DROP INDEX {how}IF EXISTS {SCHEMA}.ix_contacts_email")
        op.execute(f"DROP INDEX {how}IF EXISTS {SCHEMA}.ix_contacts_phone")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        how = _how()
        op.execute(f"CREATE INDEX {how}IF NOT EXISTS ix_messages_to ON {SCHEMA}.messages "
                   "(to_address, created_at)")
        op.execute(f"CREATE INDEX {how}IF NOT EXISTS ix_contacts_email ON {SCHEMA}.contacts (email)")
        op.execute(f"CREATE INDEX {how}IF NOT EXISTS ix_contacts_phone ON {SCHEMA}.contacts (phone)")
        op.execute(f"DROP INDEX {how}IF EXISTS {SCHEMA}.ix_messages_to_lower")
        op.execute(f"DROP INDEX {how}IF EXISTS {SCHEMA}.ix_contacts_email_lower")
        op.execute(f"DROP INDEX {how}IF EXISTS {SCHEMA}.ix_contacts_phone_lower")
