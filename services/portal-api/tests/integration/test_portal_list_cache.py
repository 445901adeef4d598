"""The invoice list is served from a cache only while the customer's invoices are unchanged."""
from __future__ import annotations

from decimal import Decimal

import pytest

from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1
from rapport_shared.contracts.task import DunningStageChangedV1

from rapport_portal.bootstrap import handle
from portal_testkit import TODAY, seed_account, sign_in

pytestmark = pytest.mark.integration


async def _apply(portal, acct, payload) -> None:
    async with portal.unit_of_work() as session:
        await handle(session, make_event(payload, source="ingest", tenant_id=acct.tenant_id, customer_key=acct.customer_id))


async def _listing(client, headers) -> dict:
    response = await client.get("/v1/invoices", params={"sort": "number"}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


async def test_portal_list_cache_serves_repeats_and_drops_them_when_an_invoice_changes(client, portal):
    acct = await seed_account(portal, invoices=2)
    headers = await sign_in(client, acct)
    first = await _listing(client, headers)
    hits = portal.list_cache.hits
    assert await _listing(client, headers) == first
    assert portal.list_cache.hits == hits + 1

    await _apply(portal, acct, InvoiceBalanceChangedV1(
        invoice_id=acct.invoice_ids[0], customer_id=acct.customer_id, number="INV-0001", issue_date=TODAY,
        due_date=TODAY, currency="EUR", amount_total=Decimal("100.50"), open_amount=Decimal("40.25"),
        status="partially_paid", version=2, cause="payment", delta=Decimal("-60.25")))
    after_payment = await _listing(client, headers)
    assert after_payment["items"][0]["open_amount"] == "40.25"
    assert after_payment["items"][0]["status"] == "partially_paid"

    await _apply(portal, acct, DunningStageChangedV1(customer_id=acct.customer_id, invoice_id=acct.invoice_ids[1],
                                                      stage="friendly_reminder"))
    assert (await _listing(client, headers))["items"][1]["dunning_stage"] == "friendly_reminder"


async def test_portal_list_cache_is_per_customer_and_per_query(client, portal):
    mine, theirs = await seed_account(portal, invoices=3), await seed_account(portal, invoices=1)
    mine_headers, their_headers = await sign_in(client, mine), await sign_in(client, theirs)
    assert (await _listing(client, mine_headers))["total"] == 3
    assert (await _listing(client, their_headers))["total"] == 1  # never another customer's cached page
    page = await client.get("/v1/invoices", params={"limit": 1, "offset": 2, "sort": "number"}, headers=mine_headers)
    assert [i["number"] for i in page.json()["items"]] == ["INV-0003"] and page.json()["offset"] == 2
    found = await client.get("/v1/invoices", params={"q": "INV-0002"}, headers=mine_headers)
    assert [i["number"] for i in found.json()["items"]] == ["INV-0002"]
