"""Payment imports look up per chunk what each row used to look up alone (known external ids, named
customers, the policy); the outcome must stay the API's, row by row."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


async def import_payments(tenant, rows: list[dict]) -> dict:
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    response = await tenant.http.post("/v1/imports?kind=payments&format=ndjson", content=body, headers=tenant.headers)
    job = await tenant.finished_import(response.json()["job_id"])
    job["errors"] = (await tenant.get(f"/v1/imports/{job['job_id']}/errors")).json()
    return job


def payment(external_id: str, amount: str, customer: str | None = "PI-C", **extra) -> dict:
    row = {"external_id": external_id, "amount": amount, "currency": "USD", "received_on": "2026-02-01", **extra}
    return row if customer is None else {**row, "customer_external_id": customer}


async def setup(tenant) -> None:
    await tenant.customer("PI-C")
    await tenant.invoice("PI-1", "100", customer="PI-C", due="2026-03-01")
    await tenant.invoice("PI-2", "50", customer="PI-C", due="2026-02-01")
    await tenant.invoice("PI-3", "30", customer="PI-C", due="2026-04-01")


ROWS = [
    payment("PP-1", "100", remittance_text="for PI-1"),
    payment("PP-1", "100", remittance_text="for PI-1"),  # the same payment again: done, nothing more
    payment("PP-2", "7", customer="PI-NOPE"),
    payment("PP-3", "5", customer=None),
    payment("PP-4", "30"),  # the amount matches PI-3
    payment("PP-5", "20"),  # matches nothing: the policy decides
]


async def ledger(tenant) -> dict:
    state = {}
    for number in ("PI-1", "PI-2", "PI-3"):
        invoice = (await tenant.get(f"/v1/invoices/{number}")).json()
        state[number] = (invoice["status"], invoice["open_amount"], sorted((a["rule"], a["amount"]) for a in invoice["allocations"]))
    return state


async def test_payment_import_ends_where_the_api_does_row_by_row(tenant, other_tenant):
    await setup(tenant)
    first = await import_payments(tenant, ROWS)
    assert (first["rows_done"], first["rows_failed"]) == (4, 2), first
    assert first["errors"] == [
        {"row": 3, "field": "customer_external_id", "reason": "unknown customer 'PI-NOPE'"},
        {"row": 4, "field": "customer_external_id", "reason": "a payment needs the customer it came from"}]
    again = await import_payments(tenant, [ROWS[0], payment("PP-6", "1")])  # PP-1 a third time, in a new job
    assert (again["rows_done"], again["rows_failed"]) == (2, 0), again
    # The same payments through the API, one request each, for another tenant.
    await setup(other_tenant)
    answers = [await other_tenant.post("/v1/payments", row) for row in ROWS + [payment("PP-6", "1")]]
    assert [a.status_code for a in answers] == [201, 200, 422, 422, 201, 201, 201]
    imported, posted = await ledger(tenant), await ledger(other_tenant)
    assert imported == posted
    assert imported["PI-1"][0] == "paid" and imported["PI-3"][0] == "paid"
