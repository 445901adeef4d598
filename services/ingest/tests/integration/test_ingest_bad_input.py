"""Bad input gets a 4xx naming the field; nothing is half-written."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

BASE = {"customer_external_id": "C-1", "issue_date": "2026-01-01", "due_date": "2026-01-31", "currency": "USD", "amount": "10"}


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "-1"}, "amount"), ({"amount": "abc"}, "amount"), ({"currency": "ZZZ"}, "currency"),
    ({"issue_date": "2026-02-30"}, "issue_date"), ({"due_date": "2025-01-01"}, "due_date"),
])
async def test_invoice_bad_fields_are_422_with_the_field(tenant, change, field):
    await tenant.customer("C-1")
    response = await tenant.put("/v1/invoices/INV-BAD", {**BASE, **change})
    assert response.status_code == 422
    body = response.json()
    reported = {e["field"] for e in body["errors"]}
    assert field in reported
    assert (await tenant.get("/v1/invoices/INV-BAD")).status_code == 404


async def test_unknown_customer_is_422(tenant):
    response = await tenant.put("/v1/invoices/INV-NC", {**BASE, "customer_external_id": "NOPE"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "customer_external_id", "reason": "unknown customer 'NOPE'"}]


async def test_missing_or_wrong_key_is_401_and_read_key_cannot_write(tenant):
    assert (await tenant.http.get("/v1/invoices")).status_code == 401
    bad = await tenant.http.get("/v1/invoices", headers={"Authorization": "Bearer rk_nope_nope"})
    assert bad.status_code == 401
    key = (await tenant.post("/v1/api-keys", {"name": "bi", "scope": "read"})).json()
    reader = {"Authorization": f"Bearer {key['api_key']}"}
    assert (await tenant.http.get("/v1/invoices", headers=reader)).status_code == 200
    denied = await tenant.http.put("/v1/customers/X", json={"name": "x", "currency": "USD"}, headers=reader)
    assert denied.status_code == 403
    assert (await tenant.http.delete(f"/v1/api-keys/{key['key_id']}", headers=tenant.headers)).status_code == 204
    assert (await tenant.http.get("/v1/invoices", headers=reader)).status_code == 401


async def test_admin_endpoint_needs_the_admin_token(client):
    response = await client.post("/v1/admin/tenants", json={"name": "x"}, headers={"X-Admin-Token": "wrong"})
    assert response.status_code == 401


async def test_oversize_upload_is_413(tenant, ingest_app):
    limit = ingest_app.state.settings.max_upload_bytes
    ingest_app.state.settings.max_upload_bytes = 1000
    try:
        response = await tenant.http.post("/v1/imports?kind=invoices&format=ndjson", content=b"x" * 5000,
                                          headers=tenant.headers)
    finally:
        ingest_app.state.settings.max_upload_bytes = limit
    assert response.status_code == 413 and response.json()["errors"][0]["field"] == "file"
