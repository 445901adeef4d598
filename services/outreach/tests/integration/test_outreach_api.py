"""Template CRUD and preview, the message log, and provider webhooks verified like the providers sign them."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from rapport_outreach.adapters.orm import messages, outbox, suppressions
from rapport_outreach.bootstrap import make_handler
from rapport_outreach.testing.provider_fakes import TwilioFake
from rapport_outreach.testing.auth import operator

pytestmark = pytest.mark.integration
TENANT = uuid.uuid4()
H = operator(TENANT)
GOOD = {"key": "due_today", "tone": "firm", "locale": "en", "subject": "Due today: {{ total }}",
        "text": "Dear {{ contact_name }}, {{ total }} is due. {{ pay_url }}",
        "html": "<p>Dear {{ contact_name }}</p>", "sms": "{{ total }} due today"}


async def _sent_message(sessions, deps, sender, tp, make_envelope):
    async with sessions() as session, session.begin():
        await make_handler(deps)(session, make_envelope(tp, TENANT))
    while await sender.run_once():
        pass
    async with sessions() as session:
        return (await session.execute(select(messages).where(messages.c.touchpoint_id == tp.touchpoint_id))).one()


async def _outbox_types(sessions, message_id) -> list[str]:
    async with sessions() as session:
        rows = (await session.execute(select(outbox.c.value, outbox.c.event_type).order_by(outbox.c.id))).all()
    return [r.event_type for r in rows if str(message_id).encode() in r.value]


async def test_saving_a_valid_template_then_using_it(client, sessions, deps, sender, sendgrid_fake,
                                                     make_touchpoint, make_envelope) -> None:
    saved = await client.put("/v1/templates", json=GOOD, headers=H)
    assert saved.status_code == 200, saved.text
    again = await client.put("/v1/templates", json={**GOOD, "subject": "Today: {{ total }}"}, headers=H)
    assert again.json()["id"] == saved.json()["id"] and again.json()["subject"] == "Today: {{ total }}"
    listed = (await client.get("/v1/templates", headers=H)).json()
    assert [t["key"] for t in listed["templates"]] == ["due_today"] and "magic_link" in listed["keys"]
    tp = make_touchpoint(template_key="due_today", tone="firm",
                         recipient=make_touchpoint().recipient.model_copy(update={"locale": "en"}))
    await _sent_message(sessions, deps, sender, tp, make_envelope)
    [mail] = [a["body"] for a in sendgrid_fake.accepted]
    assert mail["subject"] == "Today: €1,250.00"
    assert (await client.delete(f"/v1/templates/{saved.json()['id']}", headers=H)).status_code == 204
    assert (await client.get(f"/v1/templates/{saved.json()['id']}", headers=H)).status_code == 404


@pytest.mark.parametrize("change,field,needle", [
    ({"text": "Dear {{ contact_nmae }}"}, "text", "contact_nmae"),
    ({"html": "{% if total %}<p>x</p>"}, "html", "line 1"),
    ({"sms": "{% for i in range(60) %}{{ total }} due. {% endfor %}"}, "sms", "segments"),
    ({"key": "overdue_someday"}, "key", "unknown template key"),
    ({"locale": "it"}, "locale", "unsupported locale"),
])
async def test_a_broken_template_is_refused_at_save_time(client, change, field, needle) -> None:
    response = await client.put("/v1/templates", json={**GOOD, **change}, headers=H)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == field and needle in body["errors"][0]["reason"]
    listed = (await client.get("/v1/templates", headers=operator(uuid.uuid4()))).json()
    assert listed["templates"] == []


async def test_missing_fields_and_tenant_are_named(client) -> None:
    response = await client.put("/v1/templates", json={"key": "due_today"}, headers=H)
    assert response.status_code == 422 and {e["field"] for e in response.json()["errors"]} >= {"subject", "sms"}
    response = await client.get("/v1/templates")
    assert response.status_code == 401 and response.json()["errors"][0]["field"] == "Authorization"
    response = await client.get("/v1/templates", headers={**H, "X-Tenant-Id": "not-a-uuid"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "X-Tenant-Id"


async def test_preview_renders_the_sample_customer_with_sms_segments(client) -> None:
    response = await client.post("/v1/templates/preview", json={"key": "final_notice", "locale": "de"}, headers=H)
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "Letzte Mahnung: 1.680,40\xa0€ überfällig"
    assert body["sms_encoding"] == "GSM-7" and body["sms_segments"] >= 2 and "Northwind Traders" in body["sms"]
    custom = await client.post("/v1/templates/preview", json={**GOOD, "sms": "Ünïcødé ✓ {{ total }}"}, headers=H)
    assert custom.json()["sms_encoding"] == "UCS-2" and custom.json()["sms_segments"] == 1


async def test_message_log_per_customer_and_invoice(client, sessions, deps, sender, make_touchpoint,
                                                    make_envelope) -> None:
    tp = make_touchpoint()
    row = await _sent_message(sessions, deps, sender, tp, make_envelope)
    by_customer = (await client.get(f"/v1/messages?customer_id={tp.customer.customer_id}", headers=H)).json()
    by_invoice = (await client.get(f"/v1/messages?invoice_id={tp.invoices[0].invoice_id}", headers=H)).json()
    assert [m["id"] for m in by_customer["messages"]] == [str(row.id)] == [m["id"] for m in by_invoice["messages"]]
    assert by_customer["messages"][0]["events"][0]["kind"] == "sent"
    other = await client.get(f"/v1/messages/{row.id}", headers=operator(uuid.uuid4()))
    assert other.status_code == 404


def _signed(webhook_key, events: list[dict], timestamp: str | None = None) -> tuple[str, dict]:
    payload = json.dumps(events)
    timestamp = timestamp or str(int(time.time()))
    return payload, {"X-Twilio-Email-Event-Webhook-Signature": webhook_key.sign(timestamp, payload),
                     "X-Twilio-Email-Event-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}


async def test_sendgrid_events_update_state_emit_events_and_suppress(client, sessions, deps, sender, webhook_key,
                                                                     make_touchpoint, make_envelope) -> None:
    row = await _sent_message(sessions, deps, sender, make_touchpoint(), make_envelope)
    now = int(time.time())
    base = {"email": row.to_address, "timestamp": now, "rapport_message_id": str(row.id)}
    events = [{**base, "event": "delivered", "sg_event_id": "e1"}, {**base, "event": "open", "sg_event_id": "e2"},
              {**base, "event": "click", "sg_event_id": "e3", "url": "https://x.example/portal"},
              {**base, "event": "delivered", "sg_event_id": "e1"},  # a webhook retry
              {**base, "event": "spamreport", "sg_event_id": "e4"}]
    payload, headers = _signed(webhook_key, events)
    response = await client.post("/webhooks/sendgrid/events", content=payload, headers=headers)
    assert response.json() == {"received": 5, "applied": 4}
    async with sessions() as session:
        state = (await session.execute(select(messages.c.state).where(messages.c.id == row.id))).scalar_one()
        suppressed = (await session.execute(select(suppressions.c.reason).where(
            suppressions.c.address == row.to_address.lower()))).scalars().all()
    assert state == "clicked" and suppressed == ["spam_report"]
    assert await _outbox_types(sessions, row.id) == [
        "rapport.outreach.sent.v1", "rapport.outreach.delivered.v1", "rapport.outreach.opened.v1",
        "rapport.outreach.clicked.v1"]


async def test_sendgrid_bounce_suppresses_and_forged_or_stale_events_are_refused(
        client, sessions, deps, sender, webhook_key, make_touchpoint, make_envelope) -> None:
    row = await _sent_message(sessions, deps, sender, make_touchpoint(), make_envelope)
    events = [{"event": "bounce", "type": "bounce", "sg_event_id": f"b-{row.id}", "timestamp": int(time.time()),
               "rapport_message_id": str(row.id), "reason": "550 no such user"}]
    payload, headers = _signed(webhook_key, events)
    forged = await client.post("/webhooks/sendgrid/events", content=payload.replace("bounce", "delivered", 1),
                               headers=headers)
    assert forged.status_code == 403
    stale_payload, stale = _signed(webhook_key, events, timestamp=str(int(time.time()) - 3600))
    assert (await client.post("/webhooks/sendgrid/events", content=stale_payload, headers=stale)).status_code == 403
    assert (await client.post("/webhooks/sendgrid/events", content=payload, headers=headers)).json()["applied"] == 1
    async with sessions() as session:
        state = (await session.execute(select(messages.c.state).where(messages.c.id == row.id))).scalar_one()
    assert state == "bounced"
    assert await _outbox_types(sessions, row.id) == ["rapport.outreach.sent.v1", "rapport.outreach.bounced.v1"]


def _twilio_headers(path: str, form: dict) -> dict:
    signature = RequestValidator(TwilioFake.auth_token).compute_signature(f"http://outreach.test{path}", form)
    return {"X-Twilio-Signature": signature}


async def _sent_sms(sessions, deps, sender, make_touchpoint, make_envelope):
    return await _sent_message(sessions, deps, sender, make_touchpoint(channel="sms"), make_envelope)


async def test_twilio_status_callback_is_verified_and_applied(client, sessions, deps, sender, make_touchpoint,
                                                              make_envelope) -> None:
    row = await _sent_sms(sessions, deps, sender, make_touchpoint, make_envelope)
    path = f"/webhooks/twilio/status?message_id={row.id}"
    form = {"MessageSid": row.provider_message_id, "MessageStatus": "delivered", "To": row.to_address}
    bad = await client.post(path, data=form, headers={"X-Twilio-Signature": "AAAA"})
    assert bad.status_code == 403
    good = await client.post(path, data=form, headers=_twilio_headers(path, form))
    assert good.json() == {"applied": 1}
    assert await _outbox_types(sessions, row.id) == ["rapport.outreach.sent.v1", "rapport.outreach.delivered.v1"]


async def test_sms_reply_and_stop(client, sessions, deps, sender, make_touchpoint, make_envelope) -> None:
    row = await _sent_sms(sessions, deps, sender, make_touchpoint, make_envelope)
    path = "/webhooks/twilio/inbound"
    reply = {"From": row.to_address, "To": "+15550001111", "Body": "Paid yesterday, see remittance", "MessageSid": "SMr1"}
    assert (await client.post(path, data=reply, headers=_twilio_headers(path, reply))).status_code == 200
    stop = {**reply, "Body": "STOP", "MessageSid": "SMr2"}
    assert (await client.post(path, data=stop, headers=_twilio_headers(path, stop))).status_code == 200
    async with sessions() as session:
        reasons = (await session.execute(select(suppressions.c.reason).where(
            suppressions.c.address == row.to_address))).scalars().all()
    assert reasons == ["stop"]
    assert await _outbox_types(sessions, row.customer_id) == [
        "rapport.outreach.sent.v1", "rapport.outreach.replied.v1", "rapport.outreach.suppressed.v1"]


async def test_inbound_email_reply_via_inbound_parse(client, sessions, deps, sender, make_touchpoint,
                                                     make_envelope) -> None:
    row = await _sent_message(sessions, deps, sender, make_touchpoint(), make_envelope)
    form = {"from": "Colleague <other@example.com>", "to": f"reply+{row.id}@replies.rapport.local",
            "subject": "Re: invoice", "text": "We will pay on Friday.\n\n> quoted", "headers": "X: y"}
    refused = await client.post("/webhooks/sendgrid/inbound?token=wrong", files={k: (None, v) for k, v in form.items()})
    assert refused.status_code == 403
    tokenless = await client.post("/webhooks/sendgrid/inbound", files={k: (None, v) for k, v in form.items()})
    assert tokenless.status_code == 403
    response = await client.post("/webhooks/sendgrid/inbound?token=parse-secret",
                                 files={k: (None, v) for k, v in form.items()})
    assert response.json() == {"outcome": "replied"}
    again = await client.post("/webhooks/sendgrid/inbound?token=parse-secret",
                              files={k: (None, v) for k, v in form.items()})
    assert again.json() == {"outcome": "duplicate"}
    assert await _outbox_types(sessions, row.id) == ["rapport.outreach.sent.v1", "rapport.outreach.replied.v1"]


async def test_inbound_parse_without_a_configured_token_refuses_everything(client, outreach_app) -> None:
    from pydantic import SecretStr

    configured = outreach_app.state.settings
    outreach_app.state.settings = configured.model_copy(update={"inbound_parse_token": SecretStr("")})
    try:
        form = {"from": "someone@example.com", "to": "reply+x@replies.rapport.local", "text": "STOP"}
        for query in ("", "?token=", "?token=anything"):
            response = await client.post(f"/webhooks/sendgrid/inbound{query}",
                                         files={k: (None, v) for k, v in form.items()})
            assert response.status_code == 503 and "not configured" in response.text
    finally:
        outreach_app.state.settings = configured
