"""Payments, credit notes, adjustments and reversals through the API, with their auditable rows and events."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration


async def test_payment_by_remittance_text_pays_invoice_and_emits_balance_and_payment(tenant, relay, infra):
    await tenant.customer("C-1")
    invoice = await tenant.invoice("INV-200", "500.00")
    await tenant.invoice("INV-201", "80.00", due="2026-01-15")
    async with TopicWatcher(infra.bootstrap, infra.topic("invoice"), infra.topic("payment")) as watcher:
        response = await tenant.post("/v1/payments", {
            "external_id": "PAY-1", "customer_external_id": "C-1", "amount": "500.00", "currency": "USD",
            "received_on": "2026-02-02", "remittance_text": "Paying INV-200 in full"})
        assert response.status_code == 201, response.text
        payment = response.json()
        assert payment["match_rule"] == "remittance" and payment["unapplied_amount"] == "0.0000"
        assert [a["invoice_number"] for a in payment["allocations"]] == ["INV-200"]
        changed = await watcher.wait_for(lambda e: e.type == "rapport.invoice.balance_changed.v1"
                                         and e.data["invoice_id"] == invoice["invoice_id"])
        received = await watcher.wait_for(lambda e: e.type == "rapport.payment.received.v1"
                                          and e.data["external_id"] == "PAY-1")
    assert changed[0].data["status"] == "paid" and changed[0].data["delta"] == "-500.0000"
    assert changed[0].data["cause"] == "payment" and changed[0].data["version"] == 2
    assert received[0].data["allocations"][0]["invoice_number"] == "INV-200"


async def test_overpayment_becomes_unapplied_credit_and_reversal_reopens(tenant, ingest_app):
    await tenant.customer("C-1")
    await tenant.invoice("INV-300", "100.00", due="2026-01-05")
    await tenant.invoice("INV-301", "100.00", due="2026-01-20")
    paid = (await tenant.post("/v1/payments", {
        "external_id": "PAY-OVER", "customer_external_id": "C-1", "amount": "250.00", "currency": "USD",
        "received_on": "2026-02-01"})).json()
    assert paid["match_rule"] == "oldest_first" and paid["unapplied_amount"] == "50.0000"
    assert {a["invoice_number"] for a in paid["allocations"]} == {"INV-300", "INV-301"}
    reversed_ = await tenant.post("/v1/payments/PAY-OVER/reversals", {"kind": "reversal", "amount": "120", "reason": "bounced"})
    assert reversed_.status_code == 201, reversed_.text
    body = reversed_.json()
    assert body["refunded_amount"] == "120.0000" and body["unapplied_amount"] == "0.0000"
    second = (await tenant.get("/v1/invoices/INV-301")).json()
    assert second["open_amount"] == "70.0000" and second["status"] == "partially_paid"
    kinds = [a["kind"] for a in second["allocations"]]
    assert kinds == ["payment", "payment_reversal"]


async def test_currency_mismatch_is_flagged_never_converted(tenant):
    await tenant.customer("C-1")
    await tenant.invoice("INV-EUR", "100.00", currency="EUR")
    response = await tenant.post("/v1/payments", {
        "external_id": "PAY-X", "customer_external_id": "C-1", "amount": "100.00", "currency": "USD",
        "received_on": "2026-02-01", "allocations": [{"invoice_number": "INV-EUR", "amount": "100.00"}]})
    body = response.json()
    assert response.status_code == 201 and body["needs_review"] is True
    assert body["review_reason"].startswith("currency mismatch") and body["allocations"] == []
    assert (await tenant.get("/v1/invoices/INV-EUR")).json()["open_amount"] == "100.0000"


async def test_credit_note_applied_then_write_off_closes_invoice(tenant):
    await tenant.customer("C-1")
    await tenant.invoice("INV-400", "300.00")
    note = await tenant.post("/v1/credit-notes", {"number": "CN-1", "customer_external_id": "C-1",
                                                  "issue_date": "2026-02-01", "currency": "USD", "amount": "100",
                                                  "invoice_number": "INV-400", "reason": "damaged goods"})
    assert note.status_code == 201 and note.json()["unapplied_amount"] == "0.0000"
    adjusted = await tenant.post("/v1/invoices/INV-400/adjustments", {"kind": "write_off", "amount": "200", "reason": "small balance"})
    assert adjusted.status_code == 201 and adjusted.json()["status"] == "written_off"
    invoice = (await tenant.get("/v1/invoices/INV-400")).json()
    assert invoice["credited_amount"] == "100.0000" and invoice["written_off_amount"] == "200.0000"
    assert [a["kind"] for a in invoice["allocations"]] == ["credit_note", "write_off"]


async def test_void_refused_after_payment_and_allowed_before(tenant):
    await tenant.customer("C-1")
    await tenant.invoice("INV-V1", "10")
    assert (await tenant.post("/v1/invoices/INV-V1/adjustments", {"kind": "void"})).json()["status"] == "void"
    await tenant.invoice("INV-V2", "10")
    await tenant.post("/v1/payments", {"external_id": "P-V2", "customer_external_id": "C-1", "amount": "5",
                                       "currency": "USD", "received_on": "2026-02-01",
                                       "allocations": [{"invoice_number": "INV-V2", "amount": "5"}]})
    refused = await tenant.post("/v1/invoices/INV-V2/adjustments", {"kind": "void"})
    assert refused.status_code == 409


async def test_bad_payment_allocation_writes_nothing(tenant, ingest_app):
    await tenant.customer("C-1")
    await tenant.invoice("INV-500", "10")
    response = await tenant.post("/v1/payments", {
        "external_id": "PAY-BAD", "customer_external_id": "C-1", "amount": "20", "currency": "USD",
        "received_on": "2026-02-01", "allocations": [{"invoice_number": "INV-500", "amount": "15"}]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "allocations.0.amount"
    async with ingest_app.state.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM ingest.payments WHERE external_id = 'PAY-BAD'"))).scalar()
    assert count == 0


async def test_tenant_policy_unapplied_leaves_unmatched_money_for_review(tenant):
    assert (await tenant.put("/v1/settings/cash-application", {"policy": "unapplied"})).status_code == 200
    await tenant.customer("C-1")
    await tenant.invoice("INV-U1", "100.00")
    body = (await tenant.post("/v1/payments", {"external_id": "PAY-U", "customer_external_id": "C-1", "amount": "30",
                                               "currency": "USD", "received_on": "2026-02-01"})).json()
    assert body["allocations"] == [] and body["unapplied_amount"] == "30.0000" and body["needs_review"] is True
    exact = (await tenant.post("/v1/payments", {"external_id": "PAY-U2", "customer_external_id": "C-1", "amount": "100.00",
                                                "currency": "USD", "received_on": "2026-02-01"})).json()
    assert exact["match_rule"] == "exact_amount"
