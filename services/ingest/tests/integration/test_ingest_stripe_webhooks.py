"""Stripe webhooks with payloads signed the way Stripe signs them, verified by the stripe library."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
import stripe
from sqlalchemy import text

pytestmark = pytest.mark.integration
SECRET = "whsec_test_secret"


def signed(event: dict, *, secret: str = SECRET, at: int | None = None) -> tuple[bytes, dict]:
    """Stripe's scheme: ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">``."""
    payload = json.dumps(event).encode()
    timestamp = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={timestamp},v1={mac}", "Content-Type": "application/json"}


def event(kind: str, obj: dict) -> dict:
    return {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": kind, "created": 1767225600,
            "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}}


def intent(tenant, customer_id: str, invoice_ids: list[str], amount: int, currency: str = "usd") -> dict:
    return {"id": f"pi_{uuid.uuid4().hex[:14]}", "object": "payment_intent", "amount": amount,
            "amount_received": amount, "currency": currency, "status": "succeeded",
            "metadata": {"rapport_tenant_id": tenant.tenant_id, "rapport_customer_id": customer_id,
                         "rapport_invoice_ids": ",".join(invoice_ids), "rapport_request_id": str(uuid.uuid4())}}


async def post(client, evt: dict, **kw):
    payload, headers = signed(evt, **kw)
    return await client.post("/v1/webhooks/stripe", content=payload, headers=headers)


def test_our_signature_is_the_one_the_stripe_library_accepts():
    payload, headers = signed(event("ping", {}))
    assert stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], SECRET).type == "ping"


async def test_payment_intent_pays_the_portal_invoices_once_despite_retries_and_sibling_events(tenant, client, ingest_app):
    customer = await tenant.customer("C-1")
    first = await tenant.invoice("S-1", "100.00", due="2026-01-10")
    second = await tenant.invoice("S-2", "50.00", due="2026-01-20")
    pi = intent(tenant, customer["customer_id"], [second["invoice_id"], first["invoice_id"]], 12000)
    succeeded = event("payment_intent.succeeded", pi)
    response = await post(client, succeeded)
    assert response.status_code == 200 and "recorded" in response.json()["outcome"]
    retry = await post(client, succeeded)
    assert retry.json()["outcome"] == "duplicate"
    charge = {"id": "ch_1", "object": "charge", "amount": 12000, "amount_captured": 12000, "currency": "usd",
              "payment_intent": pi["id"], "metadata": pi["metadata"]}
    assert "duplicate of payment" in (await post(client, event("charge.succeeded", charge))).json()["outcome"]
    payment = (await tenant.get(f"/v1/payments/{pi['id']}")).json()
    assert payment["amount"] == "120.0000" and payment["source"] == "stripe"
    assert [(a["invoice_number"], a["amount"]) for a in payment["allocations"]] == [("S-2", "50.0000"), ("S-1", "70.0000")]
    assert (await tenant.get("/v1/invoices/S-2")).json()["status"] == "paid"
    assert (await tenant.get("/v1/invoices/S-1")).json()["open_amount"] == "30.0000"

    refund = {**charge, "amount_refunded": 3000, "refunded": False}
    assert "refund of 30.00" in (await post(client, event("charge.refunded", refund))).json()["outcome"]
    assert (await tenant.get("/v1/invoices/S-1")).json()["open_amount"] == "60.0000"
    async with ingest_app.state.engine.connect() as conn:
        payments = (await conn.execute(text("SELECT count(*) FROM ingest.payments WHERE external_id = :e"),
                                       {"e": pi["id"]})).scalar()
    assert payments == 1


async def test_checkout_session_completed_records_the_payment_and_settles_the_pending_one(tenant, client):
    customer = await tenant.customer("C-1")
    invoice = await tenant.invoice("S-JPY", "5000", currency="JPY")
    session = {"id": "cs_test_1", "object": "checkout.session", "payment_status": "paid",
               "payment_intent": f"pi_{uuid.uuid4().hex[:10]}", "amount_total": 5000, "currency": "jpy",
               "metadata": intent(tenant, customer["customer_id"], [invoice["invoice_id"]], 5000)["metadata"]}
    response = await post(client, event("checkout.session.completed", session))
    assert response.status_code == 200 and "recorded" in response.json()["outcome"]
    paid = (await tenant.get("/v1/invoices/S-JPY")).json()
    assert paid["status"] == "paid" and paid["open_amount"] == "0.0000"


async def test_bad_signature_is_400_and_recorded(client, ingest_app):
    evt = event("payment_intent.succeeded", {"id": "pi_forged", "metadata": {}})
    forged = await post(client, evt, secret="whsec_someone_else")
    assert forged.status_code == 400 and forged.json()["errors"][0]["field"] == "Stripe-Signature"
    replay = await post(client, evt, at=int(time.time()) - 3600)
    assert replay.status_code == 400 and "tolerance" in replay.json()["detail"].lower()
    missing = await client.post("/v1/webhooks/stripe", content=json.dumps(evt).encode())
    assert missing.status_code == 400
    async with ingest_app.state.engine.connect() as conn:
        rejected = (await conn.execute(text("SELECT count(*) FROM ingest.webhook_rejections"))).scalar()
        handled = (await conn.execute(text("SELECT count(*) FROM ingest.stripe_events WHERE event_id = :e"),
                                      {"e": evt["id"]})).scalar()
    assert rejected >= 3 and handled == 0


async def test_unknown_event_types_are_acknowledged_and_ignored(client):
    response = await post(client, event("customer.subscription.updated", {"id": "sub_1"}))
    assert response.status_code == 200 and response.json()["outcome"].startswith("ignored")
