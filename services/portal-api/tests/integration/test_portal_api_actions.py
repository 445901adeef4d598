"""Seeing and acting through the API: read model answers, and every action writes its ``portal`` event."""
from __future__ import annotations

import json
import uuid

import pytest

from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.outreach import MessageDeliveredV1, MessageSentV1
from rapport_shared.contracts.task import CaseStatusChangedV1

from rapport_portal.bootstrap import handle

from portal_testkit import NOW, PDF, TODAY, events_for, seed_account, sign_in

pytestmark = pytest.mark.integration


async def test_summary_list_filter_sort_search_and_paginate(client, portal):
    acct = await seed_account(portal, invoices=5, credit="20.00")
    h = await sign_in(client, acct)
    s = (await client.get("/v1/summary", headers=h)).json()
    assert s["totals"] == [{"currency": "EUR", "total_due": "502.50", "overdue": "100.50", "credits_available": "20.00"}]
    assert s["next_due"]["number"] == "INV-0002" and s["overdue_invoices"] == 1
    page = (await client.get("/v1/invoices", params={"limit": 2, "offset": 2, "sort": "number", "order": "desc"}, headers=h)).json()
    assert page["total"] == 5 and [i["number"] for i in page["items"]] == ["INV-0003", "INV-0002"]
    overdue = (await client.get("/v1/invoices", params={"status": "overdue"}, headers=h)).json()
    assert [i["number"] for i in overdue["items"]] == ["INV-0001"] and overdue["items"][0]["days_overdue"] == 10
    found = (await client.get("/v1/invoices", params={"q": "po-3"}, headers=h)).json()
    assert [i["number"] for i in found["items"]] == ["INV-0004"]
    bad = await client.get("/v1/invoices", params={"sort": "drop table", "limit": 0}, headers=h)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"query.sort", "query.limit"}


async def test_statement_json_and_pdf_and_invoice_pdf(client, portal):
    acct = await seed_account(portal, invoices=3, credit="20.00")
    h = await sign_in(client, acct)
    st = (await client.get("/v1/statement", params={"from": "2026-05-01", "to": str(TODAY)}, headers=h)).json()
    assert st["opening_balance"] == "0" and st["closing_balance"] == "281.50"
    assert [line["kind"] for line in st["lines"]] == ["invoice", "invoice", "invoice", "credit_note"]
    assert st["aging"] == {"current": "201.00", "1-30": "100.50", "31-60": "0", "61-90": "0", "91-120": "0", "120+": "0"}
    pdf = await client.get("/v1/statement", params={"from": "2026-05-01", "to": str(TODAY), "format": "pdf"}, headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and pdf.headers["content-type"] == "application/pdf"
    inv = await client.get(f"/v1/invoices/{acct.invoice_ids[0]}/pdf", headers=h)
    assert inv.content.startswith(b"%PDF-") and "invoice-INV-0001.pdf" in inv.headers["content-disposition"]
    backwards = await client.get("/v1/statement", params={"from": "2026-06-01", "to": "2026-05-01"}, headers=h)
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"


async def test_dispute_with_a_document_and_its_status_from_the_scheduler(client, portal):
    acct = await seed_account(portal)
    h = await sign_in(client, acct)
    doc = await client.post("/v1/documents", files={"file": ("../../proof.pdf", PDF, "image/png")}, headers=h)
    assert doc.status_code == 201 and doc.json()["content_type"] == "application/pdf" and doc.json()["filename"] == "proof.pdf"
    stored = list(portal.files.root.iterdir())
    assert all(p.parent == portal.files.root for p in stored) and not any("proof" in p.name for p in stored)
    body = {"invoice_id": str(acct.invoice_ids[0]), "reason_code": "damaged", "comment": "box crushed",
            "document_ids": [doc.json()["document_id"]]}
    opened = await client.post("/v1/disputes", json=body, headers=h)
    assert opened.status_code == 202 and opened.json()["documents"] == 1
    again = await client.post("/v1/disputes", json=body | {"document_ids": []}, headers=h)
    assert again.status_code == 409
    [event] = [e for e in await events_for(portal, acct.customer_id) if e.type == "rapport.portal.dispute_opened.v1"]
    assert event.data["reason_code"] == "damaged" and event.data["documents"][0]["sha256"]
    request_id = uuid.UUID(opened.json()["request_id"])
    async with portal.unit_of_work() as session:
        await handle(session, make_event(CaseStatusChangedV1(case_id=request_id, customer_id=acct.customer_id, kind="dispute",
                                                             status="resolved", note="credit note issued"),
                                         source="scheduler", tenant_id=acct.tenant_id, customer_key=acct.customer_id))
    detail = (await client.get(f"/v1/invoices/{acct.invoice_ids[0]}", headers=h)).json()
    assert [(d["status"], d["note"]) for d in detail["disputes"]] == [("resolved", "credit note issued")]


async def test_uploads_are_refused_by_content_and_size(client, portal):
    h = await sign_in(client, await seed_account(portal))
    html = await client.post("/v1/documents", files={"file": ("invoice.pdf", b"<html>hi</html>", "application/pdf")}, headers=h)
    assert html.status_code == 422 and html.json()["errors"][0]["field"] == "file"
    huge = await client.post("/v1/documents", files={"file": ("big.pdf", PDF + b"0" * portal.upload_max_bytes, "application/pdf")}, headers=h)
    assert huge.status_code == 413 and huge.json()["errors"][0]["field"] == "file"
    missing = await client.post("/v1/documents", headers=h)
    assert missing.status_code == 422


async def test_promise_plan_credit_callback_preferences_emit_portal_events(client, portal):
    acct = await seed_account(portal, invoices=2, credit="30.00")
    h = await sign_in(client, acct)
    ids = [str(i) for i in acct.invoice_ids]
    assert (await client.post("/v1/promises", json={"invoice_ids": ids[:1], "promised_date": "2026-06-30"}, headers=h)).status_code == 202
    auto = await client.post("/v1/payment-plans", headers=h, json={"invoice_ids": ids[1:], "instalments": [
        {"due_date": "2026-07-01", "amount": "50.25"}, {"due_date": "2026-08-01", "amount": "50.25"}]})
    assert auto.json()["auto_approved"] is True and auto.json()["status"] == "approved"
    review = await client.post("/v1/payment-plans", headers=h, json={"invoice_ids": ids[1:], "instalments": [
        {"due_date": f"2026-{m:02d}-01", "amount": "12.5625"} for m in range(7, 13)] + [
        {"due_date": "2027-01-01", "amount": "25.125"}]})
    assert review.status_code == 202 and review.json()["auto_approved"] is False
    credit = await client.post("/v1/credit-applications", headers=h, json={"credit_note_id": str(acct.credit_note_id), "invoice_id": ids[0], "amount": "20"})
    assert credit.status_code == 202
    over = await client.post("/v1/credit-applications", headers=h, json={"credit_note_id": str(acct.credit_note_id), "invoice_id": ids[0], "amount": "20"})
    assert over.status_code == 409 and "only 10.00" in over.json()["detail"]
    assert (await client.get("/v1/summary", headers=h)).json()["totals"][0]["credits_available"] == "10.00"
    assert (await client.post("/v1/callbacks", headers=h, json={"phone": "+4930123456", "preferred_time": "mornings"})).status_code == 202
    assert (await client.put("/v1/preferences", headers=h, json={"preferred_channel": "sms", "locale": "de", "opted_out_channels": ["call"]})).status_code == 202
    types = [e.type.split(".")[2] for e in await events_for(portal, acct.customer_id)]
    assert types == ["promise_made", "plan_requested", "plan_requested", "credit_application_requested",
                     "callback_requested", "preferences_changed"]
    kinds = {r["kind"]: r["status"] for r in (await client.get("/v1/requests", headers=h)).json()["items"]}
    assert kinds["promise"] == "open" and kinds["credit"] == "requested" and "plan" in kinds


async def test_bad_action_input_names_the_field(client, portal):
    acct = await seed_account(portal, invoices=2)
    h = await sign_in(client, acct)
    ids = [str(i) for i in acct.invoice_ids]
    cases = [
        ("/v1/promises", {"invoice_ids": ids, "promised_date": "2026-01-01"}, 422, "promised_date"),
        ("/v1/promises", {"invoice_ids": ids, "promised_date": "2026-07-01", "amount": "9999"}, 422, "amount"),
        ("/v1/promises", {"invoice_ids": ids, "promised_date": "not a date"}, 422, "promised_date"),
        ("/v1/payment-plans", {"invoice_ids": ids, "instalments": [{"due_date": "2026-07-01", "amount": "1"}]}, 422, "instalments"),
        ("/v1/disputes", {"invoice_id": ids[0], "reason_code": "because"}, 422, "reason_code"),
        ("/v1/callbacks", {"phone": "12345"}, 422, "phone"),
        ("/v1/preferences", {"opted_out_channels": ["pigeon"]}, 422, "opted_out_channels.0"),
        ("/v1/payments/checkout", {"invoice_ids": []}, 422, "invoice_ids"),
        ("/v1/promises", {"invoice_ids": ids, "promised_date": "2026-07-01", "surprise": 1}, 422, "surprise"),
    ]
    for path, body, status, field in cases:
        response = await client.post(path, json=body, headers=h) if path != "/v1/preferences" else await client.put(path, json=body, headers=h)
        assert response.status_code == status, (path, body, response.text)
        assert any(e["field"] == field for e in response.json()["errors"]), (path, response.json())
    assert [e for e in await events_for(portal, acct.customer_id)] == []  # nothing half-written


async def test_communication_history_shows_messages_and_their_outcomes(client, portal):
    acct = await seed_account(portal)
    h = await sign_in(client, acct)
    message_id = uuid.uuid4()
    common = dict(message_id=message_id, customer_id=acct.customer_id, contact_id=acct.contact_id, channel="email",
                  provider="sink", invoice_ids=acct.invoice_ids[:1])
    async with portal.unit_of_work() as session:
        for payload in (MessageDeliveredV1(**common, occurred_at=NOW), MessageSentV1(**common, occurred_at=NOW.replace(hour=11),
                        subject="Invoice INV-0001 is due", preview="Hello Ann")):
            await handle(session, make_event(payload, source="outreach", tenant_id=acct.tenant_id, customer_key=acct.customer_id))
    history = (await client.get("/v1/communications", headers=h)).json()
    [m] = history["messages"]
    assert (m["subject"], m["status"], m["invoice_ids"]) == ("Invoice INV-0001 is due", "delivered", [str(acct.invoice_ids[0])])
    assert json.dumps(history)  # serialisable as is
