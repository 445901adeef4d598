"""Two tenants write to the same person: replies reach the tenant and message they answer, never a guess."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from rapport_shared.bus import codec
from rapport_shared.contracts.touchpoint import Recipient

from rapport_outreach.adapters.orm import messages, outbox
from rapport_outreach.bootstrap import make_handler
from rapport_outreach.testing.provider_fakes import ServerThread, TwilioFake
from rapport_outreach.testing.auth import operator

pytestmark = pytest.mark.integration
OWN_SID, OWN_TOKEN, OWN_SERVICE = "AC" + "a" * 32, "tenant-a-twilio-token", "MG" + "a" * 32


@pytest.fixture(scope="module")
def own_twilio():
    """Tenant A's own Twilio account."""
    fake = TwilioFake(timeout_sleep_s=1.5)
    fake.account_sid, fake.auth_token, fake.service_sid = OWN_SID, OWN_TOKEN, OWN_SERVICE
    with ServerThread(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
async def two_tenants(sessions, deps, sender, client, own_twilio, make_touchpoint, make_envelope):
    """Tenants A (own Twilio account) and B (process defaults) each e-mail and text the same contact."""
    a, b = uuid.uuid4(), uuid.uuid4()
    await client.put("/v1/provider-accounts/sms", headers=operator(a), json={
        "provider": "twilio", "settings": {"account_sid": OWN_SID, "messaging_service_sid": OWN_SERVICE,
                                           "base_url": own_twilio.url}, "secrets": {"auth_token": OWN_TOKEN}})
    person = Recipient(contact_id=uuid.uuid4(), name="Sam AP", email=f"ap-{uuid.uuid4().hex[:8]}@shared.example",
                       phone="+3369" + str(uuid.uuid4().int)[:7], locale="en")
    sent = {}
    for tenant in (a, b):
        for channel in ("email", "sms"):
            tp = make_touchpoint(channel=channel, recipient=person)
            async with sessions() as session, session.begin():
                await make_handler(deps)(session, make_envelope(tp, tenant))
            while await sender.run_once():
                pass
            async with sessions() as session:
                sent[tenant, channel] = (await session.execute(
                    select(messages).where(messages.c.touchpoint_id == tp.touchpoint_id))).one()
    assert all(row.state == "sent" for row in sent.values())
    assert own_twilio.accepted[-1]["message_id"] == str(sent[a, "sms"].id) and own_twilio.invalid == []
    return a, b, person, sent


async def _replies(sessions) -> dict[str, str]:
    """message id -> tenant id of every ReplyReceivedV1 in the outbox."""
    async with sessions() as session:
        values = (await session.execute(select(outbox.c.value).where(
            outbox.c.event_type == "rapport.outreach.replied.v1"))).scalars().all()
    return {e.data["message_id"]: str(e.tenant_id) for e in map(codec.decode, values)}


async def _inbound_email(client, **form) -> str:
    response = await client.post("/webhooks/sendgrid/inbound?token=parse-secret",
                                 files={k: (None, v) for k, v in form.items()})
    return response.json()["outcome"]


async def test_email_replies_follow_the_reply_token_then_the_thread_and_never_guess(client, sessions,
                                                                                  two_tenants) -> None:
    a, b, person, sent = two_tenants
    outcome = await _inbound_email(client, **{"from": person.email, "to": f"reply+{sent[a, 'email'].id}@replies.x",
                                              "text": "Paid A", "headers": "Subject: Re"})
    assert outcome == "replied"
    threaded = f"In-Reply-To: <{sent[b, 'email'].id}@rapport.local>\nSubject: Re: your invoice"
    assert await _inbound_email(client, **{"from": person.email, "to": "ar@acme.example", "text": "Paid B",
                                           "headers": threaded}) == "replied"
    assert await _inbound_email(client, **{"from": person.email, "to": "ar@acme.example", "text": "Who is this?",
                                           "headers": "Subject: hello"}) == "ambiguous"
    replies = await _replies(sessions)
    assert replies[str(sent[a, "email"].id)] == str(a) and replies[str(sent[b, "email"].id)] == str(b)


def _signed(path: str, form: dict, token: str) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(f"http://outreach.test{path}", form)}


async def test_sms_replies_are_matched_by_the_tenants_messaging_service(client, sessions, two_tenants) -> None:
    a, b, person, sent = two_tenants
    path = "/webhooks/twilio/inbound"
    to_a = {"From": person.phone, "To": "+15550002222", "Body": "Paying A today", "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": OWN_SID, "MessagingServiceSid": OWN_SERVICE}
    forged = await client.post(path, data=to_a, headers=_signed(path, to_a, "not-the-token"))
    assert forged.status_code == 403
    assert (await client.post(path, data=to_a, headers=_signed(path, to_a, OWN_TOKEN))).status_code == 200
    to_b = {"From": person.phone, "To": "+15550001111", "Body": "Paying B today", "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": TwilioFake.account_sid, "MessagingServiceSid": TwilioFake.service_sid}
    assert (await client.post(path, data=to_b, headers=_signed(path, to_b, TwilioFake.auth_token))).status_code == 200
    replies = await _replies(sessions)
    assert replies[str(sent[a, "sms"].id)] == str(a) and replies[str(sent[b, "sms"].id)] == str(b)
