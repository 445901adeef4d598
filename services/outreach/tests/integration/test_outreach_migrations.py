"""The migrations build exactly the tables the ORM describes (frozen DDL must not drift from the code)."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from rapport_shared.testing.schema_drift import compare_schema

from rapport_outreach.adapters import repository
from rapport_outreach.adapters.orm import metadata

pytestmark = pytest.mark.integration


def test_outreach_migrated_schema_matches_the_orm(outreach_settings):
    # outreach_settings migrated this run's empty database to head.
    report = compare_schema(outreach_settings.database_url, metadata, "outreach")
    assert {t.name for t in metadata.sorted_tables} <= report.tables
    assert report.differences == [], f"migrations and ORM differ: {report.differences}"


async def _plan_of(session, call) -> str:  # noqa: ANN001
    """The plan Postgres picks for the statement ``call`` runs, with sequential scans priced out."""
    captured = []
    connection = await session.connection()
    sync_engine = connection.sync_engine if hasattr(connection, "sync_engine") else connection.engine.sync_engine

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        captured.append((statement, parameters))

    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        await call(session)
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    raw = (await connection.get_raw_connection()).driver_connection
    await raw.execute("SET LOCAL enable_seqscan = off")
    rows = await raw.fetch("EXPLAIN " + statement, *parameters)
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("lookup,index", [
    (lambda s: repository.latest_message_to(s, "email", "ap@example.com"), "ix_messages_to_lower"),
    (lambda s: repository.latest_per_tenant(s, "email", "ap@example.com"), "ix_messages_to_lower"),
    (lambda s: repository.contacts_by_address(s, "email", "ap@example.com"), "ix_contacts_email_lower"),
    (lambda s: repository.contacts_by_address(s, "sms", "+33612345678"), "ix_contacts_phone_lower"),
])
async def test_reply_matching_by_lowered_address_uses_an_index(sessions, lookup, index):
    async with sessions() as session, session.begin():
        plan = await _plan_of(session, lookup)
    assert index in plan, plan
