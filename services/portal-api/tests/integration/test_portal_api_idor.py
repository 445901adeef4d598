"""No endpoint lets a contact see or touch another customer's or another tenant's data."""
from __future__ import annotations

import pytest

from portal_testkit import PDF, events_for, seed_account, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
async def three(portal):
    """Me; a neighbour customer in my tenant; a stranger in another tenant."""
    me = await seed_account(portal, invoices=2, credit="10")
    neighbour = await seed_account(portal, tenant_id=me.tenant_id, invoices=2, credit="10")
    stranger = await seed_account(portal, invoices=2, credit="10")
    return me, neighbour, stranger


async def test_reads_never_cross_customers_or_tenants(client, portal, three):
    me, *others = three
    h = await sign_in(client, me)
    listing = (await client.get("/v1/invoices", params={"status": "all", "limit": 200}, headers=h)).json()
    assert sorted(i["id"] for i in listing["items"]) == sorted(str(i) for i in me.invoice_ids)
    for other in others:
        invoice_id = other.invoice_ids[0]
        for path in (f"/v1/invoices/{invoice_id}", f"/v1/invoices/{invoice_id}/pdf", f"/portal/invoices/{invoice_id}"):
            response = await client.get(path, headers=h, cookies={})
            assert response.status_code in (401, 404) or "No such invoice" in response.text, path
            assert other.email not in response.text and str(invoice_id) not in response.text.replace(path, "")
        credits = (await client.get("/v1/credit-notes", headers=h)).json()["items"]
        assert [c["id"] for c in credits] == [str(me.credit_note_id)]
    searched = (await client.get("/v1/invoices", params={"q": "INV"}, headers=h)).json()
    assert searched["total"] == 2


async def test_actions_on_someone_elses_things_are_refused_and_emit_nothing(client, portal, three):
    me, *others = three
    h = await sign_in(client, me)
    for other in others:
        theirs = str(other.invoice_ids[0])
        attempts = [
            ("/v1/disputes", {"invoice_id": theirs, "reason_code": "other"}),
            ("/v1/promises", {"invoice_ids": [theirs], "promised_date": "2026-06-30"}),
            ("/v1/payment-plans", {"invoice_ids": [theirs], "instalments": [{"due_date": "2026-07-01", "amount": "100.50"}]}),
            ("/v1/credit-applications", {"credit_note_id": str(other.credit_note_id), "invoice_id": str(me.invoice_ids[0])}),
            ("/v1/credit-applications", {"credit_note_id": str(me.credit_note_id), "invoice_id": theirs}),
            ("/v1/payments/checkout", {"invoice_ids": [str(me.invoice_ids[0]), theirs]}),
        ]
        for path, body in attempts:
            response = await client.post(path, json=body, headers=h)
            assert response.status_code == 404, (path, response.text)
        # a document uploaded by someone else cannot be attached either
        their_h = await sign_in(client, other)
        doc = (await client.post("/v1/documents", files={"file": ("x.pdf", PDF, "application/pdf")}, headers=their_h)).json()
        stolen = await client.post("/v1/disputes", json={"invoice_id": str(me.invoice_ids[0]), "reason_code": "other",
                                                          "document_ids": [doc["document_id"]]}, headers=h)
        assert stolen.status_code == 404 and stolen.json()["errors"][0]["field"] == "document_ids.0"
        assert await events_for(portal, other.customer_id) == []
    assert await events_for(portal, me.customer_id) == []


async def test_a_session_is_bound_to_its_customer_whatever_the_request_says(client, portal, three):
    me, neighbour, _ = three
    h = await sign_in(client, me)
    summary = await client.get("/v1/summary", params={"customer_id": str(neighbour.customer_id)}, headers=h)
    me_json = (await client.get("/v1/me", headers=h | {"X-Customer-Id": str(neighbour.customer_id)})).json()
    assert summary.status_code == 200 and me_json["customer_id"] == str(me.customer_id)
    assert summary.json()["totals"][0]["total_due"] == "201.00"
    history = (await client.get("/v1/communications", headers=h)).json()
    requests = (await client.get("/v1/requests", headers=h)).json()
    assert history == {"messages": [], "interactions": []} and requests == {"items": []}
