"""Paying through a Stripe Checkout Session created by the real SDK against a local fake that checks it."""
from __future__ import annotations

import pytest

from portal_testkit import events_for, seed_account, sign_in

pytestmark = pytest.mark.integration


async def test_pay_several_invoices_creates_a_checkout_session_with_metadata(client, portal, fake_stripe):
    acct = await seed_account(portal, invoices=3)
    h = await sign_in(client, acct)
    ids = [str(i) for i in acct.invoice_ids[:2]]
    before = len(fake_stripe.requests)
    response = await client.post("/v1/payments/checkout", json={"invoice_ids": ids}, headers=h)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["checkout_url"] == f"{fake_stripe.url}/pay/{body['checkout_session_id']}"
    assert body["amount"] == "201.00" and body["currency"] == "EUR"
    [sent] = fake_stripe.requests[before:]
    form = sent["form"]
    assert fake_stripe.problems == []
    assert form["metadata[rapport_invoice_ids]"] == ",".join(ids)
    assert form["metadata[rapport_tenant_id]"] == str(acct.tenant_id)
    assert form["metadata[rapport_customer_id]"] == str(acct.customer_id)
    assert form["metadata[rapport_request_id]"] == body["request_id"]
    assert form["payment_intent_data[metadata][rapport_request_id]"] == body["request_id"]
    assert [form[f"line_items[{n}][price_data][unit_amount]"] for n in (0, 1)] == ["10050", "10050"]
    assert form["line_items[0][price_data][currency]"] == "eur" and form["customer_email"] == acct.email
    assert sent["headers"]["Idempotency-Key"] == f"rapport-portal-{body['request_id']}"
    [event] = [e for e in await events_for(portal, acct.customer_id) if e.type == "rapport.portal.payment_initiated.v1"]
    assert event.data["checkout_session_id"] == body["checkout_session_id"] and event.data["amount"] == "201.00"
    # initiating is not paying: the invoices stay open until ingest hears from Stripe's webhook
    assert (await client.get("/v1/summary", headers=h)).json()["totals"][0]["total_due"] == "301.50"


async def test_zero_decimal_currency_is_sent_in_whole_units(client, portal, fake_stripe):
    acct = await seed_account(portal, invoices=1, amount="15000", currency="JPY")
    h = await sign_in(client, acct)
    response = await client.post("/v1/payments/checkout", json={"invoice_ids": [str(acct.invoice_ids[0])]}, headers=h)
    assert response.status_code == 201
    assert fake_stripe.requests[-1]["form"]["line_items[0][price_data][unit_amount]"] == "15000"


async def test_a_refusal_by_stripe_is_a_502_and_nothing_is_recorded(client, portal, fake_stripe, monkeypatch):
    acct = await seed_account(portal, invoices=1)
    h = await sign_in(client, acct)
    monkeypatch.setattr(fake_stripe, "api_key", "sk_test_some_other_key")  # the fake now refuses our key
    response = await client.post("/v1/payments/checkout", json={"invoice_ids": [str(acct.invoice_ids[0])]}, headers=h)
    fake_stripe.problems.clear()
    assert response.status_code == 502 and "payment processor refused" in response.json()["detail"]
    assert await events_for(portal, acct.customer_id) == []
