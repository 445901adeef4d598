"""The ERP API against real Postgres: upserts, stale updates, idempotency, events in the outbox → Kafka."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration


async def test_customer_upsert_created_then_updated_then_stale_ignored(tenant):
    first = await tenant.put("/v1/customers/C-9", {"name": "Globex", "currency": "EUR", "country": "DE",
                                                   "tags": ["vip"], "updated_at": "2026-01-02T00:00:00Z"})
    assert first.status_code == 201
    again = await tenant.put("/v1/customers/C-9", {"name": "Globex GmbH", "currency": "EUR",
                                                   "updated_at": "2026-01-03T00:00:00Z"})
    assert again.status_code == 200 and again.json()["name"] == "Globex GmbH" and again.json()["version"] == 2
    stale = await tenant.put("/v1/customers/C-9", {"name": "Old name", "currency": "EUR",
                                                   "updated_at": "2026-01-01T00:00:00Z"})
    assert stale.status_code == 200
    assert stale.json()["name"] == "Globex GmbH" and stale.json()["applied"] is False
    stored = (await tenant.get("/v1/customers/C-9")).json()
    assert stored["name"] == "Globex GmbH" and stored["customer_id"] == first.json()["customer_id"]


async def test_invoice_put_emits_issued_event_on_kafka(tenant, relay, ingest_settings, infra):
    customer = await tenant.customer("C-1")
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice")) as watcher:
        invoice = await tenant.invoice("INV-100", "1250.50")
        events = await watcher.wait_for(lambda e: e.data.get("invoice_id") == invoice["invoice_id"])
    event = events[0]
    assert event.type == "rapport.invoice.issued.v1"
    assert event.data["open_amount"] == "1250.5000" and event.data["status"] == "open"
    assert event.partitionkey == f"{tenant.tenant_id}:{customer['customer_id']}"


async def test_invoice_row_and_outbox_row_commit_together(tenant, ingest_app):
    await tenant.customer("C-1")
    invoice = await tenant.invoice("INV-OUTBOX", "10.00")
    async with ingest_app.state.engine.connect() as conn:
        ledger = (await conn.execute(text("SELECT amount_total, status FROM ingest.invoices WHERE id = :i"),
                                     {"i": invoice["invoice_id"]})).one()
    assert ledger.amount_total == 10 and ledger.status == "open"


async def test_post_invoice_same_content_is_idempotent_and_different_content_conflicts(tenant):
    await tenant.customer("C-1")
    body = {"number": "INV-7", "customer_external_id": "C-1", "issue_date": "2026-01-01",
            "due_date": "2026-01-31", "currency": "USD", "amount": "99.99"}
    first = await tenant.post("/v1/invoices", body)
    assert first.status_code == 201
    same = await tenant.post("/v1/invoices", body)
    assert same.status_code == 200 and same.json()["invoice_id"] == first.json()["invoice_id"]
    different = await tenant.post("/v1/invoices", {**body, "amount": "100.00"})
    assert different.status_code == 409
    assert different.json()["errors"][0]["field"] == "number"


async def test_idempotency_key_retry_returns_first_result(tenant):
    await tenant.customer("C-1")
    await tenant.invoice("INV-IK", "300")
    payment = {"external_id": "PAY-IK", "customer_external_id": "C-1", "amount": "100", "currency": "USD",
               "received_on": "2026-02-01"}
    first = await tenant.post("/v1/payments", payment, headers={"Idempotency-Key": "k-1"})
    retry = await tenant.post("/v1/payments", payment, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    invoice = (await tenant.get("/v1/invoices/INV-IK")).json()
    assert invoice["open_amount"] == "200.0000"
    misuse = await tenant.post("/v1/payments", {**payment, "amount": "5"}, headers={"Idempotency-Key": "k-1"})
    assert misuse.status_code == 422 and misuse.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_stale_invoice_update_is_ignored(tenant):
    await tenant.customer("C-1")
    base = {"customer_external_id": "C-1", "issue_date": "2026-01-01", "due_date": "2026-01-31", "currency": "USD"}
    await tenant.put("/v1/invoices/INV-S", {**base, "amount": "50", "updated_at": "2026-01-05T00:00:00Z"})
    newer = await tenant.put("/v1/invoices/INV-S", {**base, "amount": "60", "updated_at": "2026-01-06T00:00:00Z"})
    assert newer.status_code == 200 and newer.json()["amount"] == "60.0000" and newer.json()["version"] == 2
    older = await tenant.put("/v1/invoices/INV-S", {**base, "amount": "40", "updated_at": "2026-01-04T00:00:00Z"})
    assert older.json()["applied"] is False and older.json()["amount"] == "60.0000"


async def test_contact_upsert_and_read_back_on_customer(tenant):
    await tenant.customer("C-1")
    response = await tenant.put("/v1/customers/C-1/contacts/AP-1", {
        "name": "Pat Payables", "email": "pat@example.com", "phone": "+14155550100", "role": "AP clerk",
        "preferred_channel": "email", "is_primary": True, "opted_out_channels": ["sms"]})
    assert response.status_code == 201
    customer = (await tenant.get("/v1/customers/C-1")).json()
    assert customer["contacts"][0]["email"] == "pat@example.com"
    assert customer["contacts"][0]["opted_out_channels"] == ["sms"]
