"""A key of tenant A never sees or changes tenant B's data: 404, never data."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_every_endpoint_is_scoped_to_the_key_tenant(tenant, other_tenant):
    await other_tenant.customer("SECRET")
    await other_tenant.invoice("B-INV-1", "999", customer="SECRET")
    await other_tenant.post("/v1/payments", {"external_id": "B-PAY", "customer_external_id": "SECRET", "amount": "1",
                                             "currency": "USD", "received_on": "2026-02-01"})
    await other_tenant.post("/v1/credit-notes", {"number": "B-CN", "customer_external_id": "SECRET",
                                                 "issue_date": "2026-02-01", "currency": "USD", "amount": "5"})
    job = (await other_tenant.http.post("/v1/imports?kind=customers&format=ndjson",
                                        content=b'{"external_id": "X", "name": "X", "currency": "USD"}\n',
                                        headers=other_tenant.headers)).json()
    assert (await tenant.get("/v1/customers/SECRET")).status_code == 404
    assert (await tenant.get("/v1/invoices/B-INV-1")).status_code == 404
    assert (await tenant.get("/v1/payments/B-PAY")).status_code == 404
    assert (await tenant.get("/v1/invoices")).json()["items"] == []
    assert (await tenant.get("/v1/invoices", params={"customer": "SECRET"})).status_code == 404
    assert (await tenant.get(f"/v1/imports/{job['job_id']}")).status_code == 404
    assert (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).status_code == 404
    assert (await tenant.post("/v1/invoices/B-INV-1/adjustments", {"kind": "void"})).status_code == 404
    assert (await tenant.post("/v1/payments/B-PAY/reversals", {"kind": "refund"})).status_code == 404
    assert (await tenant.post("/v1/credit-notes/B-CN/applications", {"invoice_number": "B-INV-1"})).status_code == 404
    contact = await tenant.put("/v1/customers/SECRET/contacts/AP", {"name": "x"})
    assert contact.status_code == 404
    keys = (await tenant.post("/v1/api-keys", {"name": "k", "scope": "read"})).json()
    other_key = (await other_tenant.post("/v1/api-keys", {"name": "k", "scope": "read"})).json()
    assert (await tenant.http.delete(f"/v1/api-keys/{other_key['key_id']}", headers=tenant.headers)).status_code == 404
    assert keys["key_id"] != other_key["key_id"]


async def test_same_external_ids_in_two_tenants_are_separate(tenant, other_tenant):
    mine = await tenant.customer("SHARED-ID")
    theirs = await other_tenant.customer("SHARED-ID")
    assert mine["customer_id"] != theirs["customer_id"]
    await tenant.invoice("SAME-NO", "10", customer="SHARED-ID")
    await other_tenant.invoice("SAME-NO", "20", customer="SHARED-ID")
    assert (await tenant.get("/v1/invoices/SAME-NO")).json()["amount"] == "10.0000"
    assert (await other_tenant.get("/v1/invoices/SAME-NO")).json()["amount"] == "20.0000"


async def test_bodies_naming_another_tenants_objects_are_refused_and_change_nothing(tenant, other_tenant):
    await other_tenant.customer("THEIRS")
    await other_tenant.invoice("THEIR-INV", "100", customer="THEIRS")
    await tenant.customer("MINE")
    invoice = await tenant.post("/v1/invoices", {"number": "X-1", "customer_external_id": "THEIRS",
                                                 "issue_date": "2026-01-01", "due_date": "2026-01-31",
                                                 "currency": "USD", "amount": "5"})
    assert invoice.status_code == 422 and invoice.json()["errors"][0]["field"] == "customer_external_id"
    note = await tenant.post("/v1/credit-notes", {"number": "CN-X", "customer_external_id": "MINE",
                                                  "issue_date": "2026-01-01", "currency": "USD", "amount": "5",
                                                  "invoice_number": "THEIR-INV"})
    assert note.status_code in (404, 422), note.text
    payment = await tenant.post("/v1/payments", {"external_id": "P-X", "customer_external_id": "MINE",
                                                 "amount": "100", "currency": "USD", "received_on": "2026-02-01",
                                                 "allocations": [{"invoice_number": "THEIR-INV", "amount": "100"}]})
    assert payment.status_code in (404, 422) or payment.json()["allocations"] == [], payment.text
    untouched = (await other_tenant.get("/v1/invoices/THEIR-INV")).json()
    assert (untouched["open_amount"], untouched["status"], untouched["allocations"]) == ("100.0000", "open", [])
    policy = await tenant.put("/v1/settings/cash-application", {"policy": "unapplied"})
    assert policy.status_code == 200
    # No exact amount and no remittance: their (default) policy decides, not mine.
    theirs = await other_tenant.post("/v1/payments", {"external_id": "P-T", "customer_external_id": "THEIRS",
                                                      "amount": "60", "currency": "USD", "received_on": "2026-02-01"})
    assert theirs.json()["match_rule"] == "oldest_first", theirs.text
