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


async def test_dispute_opened_then_resolved_reaches_the_customers_features(sessions, rescorer, ledger):
    from rapport_shared.contracts.envelope import make_event
    from rapport_shared.contracts.portal import DisputeOpenedV1
    from rapport_shared.contracts.task import CaseStatusChangedV1

    from rapport_scoring.adapters import repository, snapshot
    from rapport_scoring.domain.features import state_as_of

    cust, inv, request = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    issue, due = TODAY - timedelta(days=40), TODAY - timedelta(days=10)
    opened_at = datetime(2026, 3, 20, 15, tzinfo=timezone.utc)
    await _deliver(sessions, rescorer, ledger.invoice(cust, inv, issue, due, "900.00"),
                   make_event(DisputeOpenedV1(request_id=request, customer_id=cust, invoice_id=inv,
                                              requested_at=opened_at, reason_code="wrong_amount"),
                              source="rapport.portal", tenant_id=ledger.tenant_id, customer_key=cust))

    async def facts():
        async with sessions() as session:
            snap = await snapshot.load(session, ledger.tenant_id, cust)
            tenant = await repository.tenant_invoice_facts(session, ledger.tenant_id)
        return [repository.invoice_fact(r) for r in snap.invoices], tenant

    mine, tenant = await facts()
    assert [(f.disputed_on, f.dispute_resolved_on) for f in mine] == [(date(2026, 3, 20), None)]
    assert [(f.disputed_on, f.dispute_resolved_on) for f in tenant] == [(date(2026, 3, 20), None)]
    state = state_as_of(mine, [], TODAY)
    assert (state.disputes_opened, state.disputes_open) == (1, 1)
    # A case of another kind changes nothing; the dispute case ending resolves it.
    other = CaseStatusChangedV1(case_id=uuid.uuid4(), customer_id=cust, kind="promise", status="broken", invoice_ids=[inv])
    ended = CaseStatusChangedV1(case_id=request, customer_id=cust, kind="dispute", status="resolved", invoice_ids=[inv])
    await _deliver(sessions, rescorer, *(make_event(p, source="rapport.scheduler", tenant_id=ledger.tenant_id,
                                                    customer_key=cust, time=datetime(2026, 3, 25, tzinfo=timezone.utc))
                                         for p in (other, ended)))
    mine, _ = await facts()
    assert [(f.disputed_on, f.dispute_resolved_on) for f in mine] == [(date(2026, 3, 20), date(2026, 3, 25))]
    state = state_as_of(mine, [], TODAY)
    assert (state.disputes_opened, state.disputes_open) == (1, 0)


async def test_training_columns_read_by_the_driver_equal_the_invoice_facts(sessions, rescorer, ledger, scoring_url):
    """Training reads columns straight from the driver: the same features as from ``InvoiceFact`` objects."""
    import numpy as np

    from rapport_shared.contracts.envelope import make_event
    from rapport_shared.contracts.portal import DisputeOpenedV1
    from rapport_shared.contracts.task import CaseStatusChangedV1

    from rapport_scoring import synthetic
    from rapport_scoring.adapters import repository
    from rapport_scoring.adapters.bulk import copy_invoices, stable_id
    from rapport_scoring.domain.feature_matrix import build_matrix

    facts = synthetic.ledger(8, 12, seed=9, open_share=0.5, today=TODAY)
    copy_invoices(scoring_url, ledger.tenant_id, facts)
    disputed = [f for f in facts][::7]
    envelopes = []
    for k, f in enumerate(disputed):
        request, cust = uuid.uuid4(), stable_id(ledger.tenant_id, f.customer_id)
        opened = datetime.combine(f.issue_date + timedelta(days=k - 3), datetime.min.time(), timezone.utc)  # some before issue
        envelopes.append(make_event(DisputeOpenedV1(request_id=request, customer_id=cust,
                                                    invoice_id=stable_id(ledger.tenant_id, f.invoice_id),
                                                    requested_at=opened, reason_code="pricing"),
                                    source="rapport.portal", tenant_id=ledger.tenant_id, customer_key=cust))
        if k % 2:
            envelopes.append(make_event(CaseStatusChangedV1(case_id=request, customer_id=cust, kind="dispute", status="rejected"),
                                        source="rapport.scheduler", tenant_id=ledger.tenant_id, customer_key=cust,
                                        time=opened + timedelta(days=k - 4)))
    await _deliver(sessions, rescorer, *envelopes)
    async with sessions() as session:
        objects = await repository.tenant_invoice_facts(session, ledger.tenant_id)
        columns = await repository.tenant_invoice_columns(session, ledger.tenant_id)
    assert len(columns) == len(objects) == len(facts)
    assert sum(f.disputed_on is not None for f in objects) == len(disputed)
    assert sum(f.dispute_resolved_on is not None for f in objects) == len(disputed) // 2
    a, b = build_matrix(objects), build_matrix(columns)
    order_a = np.lexsort((a.x[:, 10], a.issue))  # same invoices, maybe another order: sort by issue and amount
    order_b = np.lexsort((b.x[:, 10], b.issue))
    assert np.allclose(a.x[order_a], b.x[order_b]) and np.array_equal(a.settled[order_a], b.settled[order_b])
    assert b.x[:, -2].sum() > 0 and b.x[:, -1].sum() > 0  # disputes reached the features (opened, still open)
