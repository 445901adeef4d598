"""The trigger-kept rollups always equal the aggregates of the invoices they summarise."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from rapport_shared.time import ManualClock

from rapport_scoring import synthetic
from rapport_scoring.adapters.bulk import copy_invoices
from rapport_scoring.bootstrap import make_rescorer
from rapport_scoring.config import Settings
from rapport_scoring.service_layer.handlers import handle

pytestmark = pytest.mark.integration
TODAY = date(2026, 3, 31)

_OPEN = """SELECT currency, due_date, sum(open_amount) FROM scoring.invoices
           WHERE tenant_id = :t AND open_amount > 0 GROUP BY 1, 2 ORDER BY 1, 2"""
_OPEN_ROLLUP = """SELECT currency, due_date, open_amount FROM scoring.open_by_due
                  WHERE tenant_id = :t AND open_amount <> 0 ORDER BY 1, 2"""
_SALES = """SELECT currency, issue_date, sum(amount_total) FROM scoring.invoices
            WHERE tenant_id = :t GROUP BY 1, 2 ORDER BY 1, 2"""
_SALES_ROLLUP = """SELECT currency, issue_date, amount FROM scoring.sales_by_day
                   WHERE tenant_id = :t AND amount <> 0 ORDER BY 1, 2"""


async def _pairs(sessions, tenant_id) -> tuple[list, list, list, list]:
    results = []
    async with sessions() as session:
        for sql in (_OPEN, _OPEN_ROLLUP, _SALES, _SALES_ROLLUP):
            results.append([tuple(r) for r in await session.execute(text(sql), {"t": tenant_id})])
    return tuple(results)


async def test_rollups_follow_issue_part_payment_and_settlement(sessions, infra, ledger):
    rescorer = make_rescorer(Settings(**infra.settings_overrides("scoring")),
                             ManualClock(datetime(2026, 3, 31, 9, tzinfo=timezone.utc)))
    cust, a, b, pay = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    due = TODAY - timedelta(days=3)
    events = [ledger.invoice(cust, a, TODAY - timedelta(days=33), due, "100.00"),
              ledger.invoice(cust, b, TODAY - timedelta(days=33), due, "40.50"),
              ledger.invoice(cust, a, TODAY - timedelta(days=33), due, "100.00", "60.00", "partially_paid"),
              ledger.paid(cust, b, TODAY - timedelta(days=33), due, "40.50", pay)]
    for envelope in events:
        async with sessions.begin() as session:
            await handle(session, envelope, rescorer)
    open_, open_rollup, sales, sales_rollup = await _pairs(sessions, ledger.tenant_id)
    assert open_rollup == open_ == [("EUR", due, 60)]
    assert sales_rollup == sales == [("EUR", TODAY - timedelta(days=33), 140.5)]


async def test_rollups_of_a_bulk_copy(sessions, scoring_url):
    tenant_id = uuid.uuid4()
    copy_invoices(scoring_url, tenant_id, synthetic.ledger(30, 12, seed=5, open_share=0.4, today=TODAY))
    open_, open_rollup, sales, sales_rollup = await _pairs(sessions, tenant_id)
    assert open_ and sales
    assert open_rollup == open_ and sales_rollup == sales
