"""Handlers against real Postgres: the read model, settlement dates, and change-only score events."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from rapport_shared.bus import codec
from rapport_shared.contracts.invoice import InvoiceUpdatedV1
from rapport_shared.time import ManualClock

from rapport_scoring.adapters.orm import invoices, outbox
from rapport_scoring.config import Settings
from rapport_scoring.service_layer.handlers import handle
from rapport_scoring.bootstrap import make_rescorer

pytestmark = pytest.mark.integration
TODAY = date(2026, 3, 31)


@pytest.fixture
def rescorer(infra):
    settings = Settings(**infra.settings_overrides("scoring"))
    return make_rescorer(settings, ManualClock(datetime(2026, 3, 31, 9, tzinfo=timezone.utc)))


async def _deliver(sessions, rescorer, *envelopes):
    for envelope in envelopes:
        async with sessions.begin() as session:
            await handle(session, envelope, rescorer)


async def _score_events(sessions, tenant_id) -> list:
    async with sessions() as session:
        values = (await session.execute(select(outbox.c.value))).scalars().all()
    decoded = [codec.decode(v) for v in values]
    return [e for e in decoded if e.tenant_id == tenant_id]


async def test_invoice_and_payment_build_the_read_model_and_score(sessions, rescorer, ledger):
    cust, inv_a, inv_b, pay = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await _deliver(sessions, rescorer,
                   ledger.customer(cust, size="smb"),
                   ledger.invoice(cust, inv_a, TODAY - timedelta(days=60), TODAY - timedelta(days=30), "100.00"),
                   ledger.invoice(cust, inv_b, TODAY - timedelta(days=10), TODAY + timedelta(days=20), "250.00"),
                   # the payment arrives before ingest's balance change: the settlement date must still be right
                   ledger.payment(cust, pay, inv_a, "100.00", TODAY - timedelta(days=25)),
                   ledger.paid(cust, inv_a, TODAY - timedelta(days=60), TODAY - timedelta(days=30), "100.00", pay))
    async with sessions() as session:
        settled = (await session.execute(select(invoices.c.settled_on).where(invoices.c.invoice_id == inv_a))).scalar_one()
    assert settled == TODAY - timedelta(days=25)
    events = await _score_events(sessions, ledger.tenant_id)
    customer_events = [e for e in events if e.type == "rapport.score.customer_scored.v1"]
    invoice_events = [e for e in events if e.type == "rapport.score.invoice_scored.v1"]
    assert customer_events and invoice_events
    last = customer_events[-1].payload()
    assert last.customer_id == cust and last.model_version == "rules-v1"
    assert last.delinquency == "one_time"  # paid 5 days late once
    assert [(a.currency, a.current) for a in last.aging] == [("EUR", 250)]
    assert {e.payload().invoice_id for e in invoice_events} == {inv_a, inv_b}
    assert all(e.partitionkey == f"{ledger.tenant_id}:{cust}" for e in events)


async def test_no_event_when_nothing_meaningful_changed(sessions, rescorer, ledger):
    cust, inv = uuid.uuid4(), uuid.uuid4()
    issue, due = TODAY - timedelta(days=5), TODAY + timedelta(days=25)
    await _deliver(sessions, rescorer, ledger.invoice(cust, inv, issue, due, "500.00"))
    before = len(await _score_events(sessions, ledger.tenant_id))
    assert before == 2  # the first score of the customer and of its invoice
    # The ERP re-sends the invoice with a new PO number: nothing about the risk moved.
    await _deliver(sessions, rescorer, ledger.invoice(cust, inv, issue, due, "500.00", cls=InvoiceUpdatedV1, po_number="PO-9"))
    assert len(await _score_events(sessions, ledger.tenant_id)) == before


async def test_older_snapshot_does_not_overwrite_newer(sessions, rescorer, ledger):
    cust, inv = uuid.uuid4(), uuid.uuid4()
    issue, due = TODAY - timedelta(days=5), TODAY + timedelta(days=25)
    first = ledger.invoice(cust, inv, issue, due, "500.00")
    second = ledger.invoice(cust, inv, issue, due, "500.00", "200.00", "partially_paid")
    await _deliver(sessions, rescorer, second, first)
    async with sessions() as session:
        row = (await session.execute(select(invoices.c.open_amount, invoices.c.version).where(invoices.c.invoice_id == inv))).one()
    assert (row[0], row[1]) == (200, 2)
