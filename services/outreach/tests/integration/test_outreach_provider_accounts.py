"""A tenant's own provider account (admin API): used for its messages only, its secrets never shown or logged."""
from __future__ import annotations

import json
import logging
import time
import uuid

import pytest
from sqlalchemy import select

from rapport_outreach.adapters.orm import messages, provider_accounts
from rapport_outreach.bootstrap import make_handler
from rapport_outreach.testing.provider_fakes import SendGridFake, ServerThread
from rapport_outreach.testing.auth import operator

pytestmark = pytest.mark.integration
TENANT_SECRET = "SG.tenant-own-key-7f3a9c"


@pytest.fixture(scope="module")
def tenant_sendgrid():
    """A second SendGrid fake that only accepts the tenant's own key."""
    fake = SendGridFake(timeout_sleep_s=1.5)
    fake.api_key = TENANT_SECRET
    with ServerThread(fake.app()) as server:
        fake.url = server.url
        yield fake


async def _send_one(sessions, deps, sender, tenant, make_touchpoint, make_envelope):
    tp = make_touchpoint()
    async with sessions() as session, session.begin():
        await make_handler(deps)(session, make_envelope(tp, tenant))
    while await sender.run_once():
        pass
    async with sessions() as session:
        return (await session.execute(select(messages).where(messages.c.touchpoint_id == tp.touchpoint_id))).one()


async def test_tenant_account_sends_its_messages_and_others_keep_the_defaults(
        sessions, deps, sender, client, sendgrid_fake, tenant_sendgrid, make_touchpoint, make_envelope,
        caplog) -> None:
    caplog.set_level(logging.DEBUG)
    own, other = uuid.uuid4(), uuid.uuid4()
    answer = await client.put("/v1/provider-accounts/email", headers=operator(own), json={
        "provider": "sendgrid", "settings": {"base_url": tenant_sendgrid.url, "from_email": "ar@own.example"},
        "secrets": {"api_key": TENANT_SECRET}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["secrets_set"] == ["api_key"] and TENANT_SECRET not in answer.text

    mine = await _send_one(sessions, deps, sender, own, make_touchpoint, make_envelope)
    theirs = await _send_one(sessions, deps, sender, other, make_touchpoint, make_envelope)
    assert mine.state == "sent" and theirs.state == "sent"
    assert [r["message_id"] for r in tenant_sendgrid.accepted] == [str(mine.id)] and tenant_sendgrid.invalid == []
    assert tenant_sendgrid.accepted[0]["body"]["from"]["email"] == "ar@own.example"
    assert [r["message_id"] for r in sendgrid_fake.accepted] == [str(theirs.id)]

    listed = await client.get("/v1/provider-accounts", headers=operator(own))
    assert listed.json()["accounts"][0]["provider"] == "sendgrid" and TENANT_SECRET not in listed.text
    async with sessions() as session:
        stored = (await session.execute(select(provider_accounts.c.secrets)
                                        .where(provider_accounts.c.tenant_id == own))).scalar_one()
    assert TENANT_SECRET not in stored  # sealed at rest
    assert caplog.records and TENANT_SECRET not in caplog.text
    assert all(TENANT_SECRET not in repr(r.__dict__) for r in caplog.records)


async def test_saving_without_secrets_keeps_them_and_deleting_falls_back_to_the_defaults(
        sessions, deps, sender, client, sendgrid_fake, tenant_sendgrid, make_touchpoint, make_envelope) -> None:
    tenant = uuid.uuid4()
    headers = operator(tenant)
    await client.put("/v1/provider-accounts/email", headers=headers, json={
        "provider": "sendgrid", "settings": {"base_url": tenant_sendgrid.url}, "secrets": {"api_key": TENANT_SECRET}})
    renamed = await client.put("/v1/provider-accounts/email", headers=headers, json={
        "provider": "sendgrid", "settings": {"base_url": tenant_sendgrid.url, "from_name": "Own AR"}})
    assert renamed.status_code == 200 and renamed.json()["secrets_set"] == ["api_key"]
    first = await _send_one(sessions, deps, sender, tenant, make_touchpoint, make_envelope)
    assert tenant_sendgrid.accepted[-1]["message_id"] == str(first.id)
    assert tenant_sendgrid.accepted[-1]["body"]["from"]["name"] == "Own AR"

    assert (await client.delete("/v1/provider-accounts/email", headers=headers)).status_code == 204
    second = await _send_one(sessions, deps, sender, tenant, make_touchpoint, make_envelope)
    assert second.state == "sent" and sendgrid_fake.accepted[-1]["message_id"] == str(second.id)
    assert (await client.delete("/v1/provider-accounts/email", headers=headers)).status_code == 404


async def test_event_webhook_of_a_tenants_own_account_is_verified_with_its_key_and_touches_only_its_messages(
        sessions, deps, sender, client, tenant_sendgrid, webhook_key, make_touchpoint, make_envelope) -> None:
    own_key, tenant, other = type(webhook_key)(), uuid.uuid4(), uuid.uuid4()  # a key pair of the tenant's own
    await client.put("/v1/provider-accounts/email", headers=operator(tenant), json={
        "provider": "sendgrid", "settings": {"base_url": tenant_sendgrid.url, "webhook_public_key": own_key.public_b64},
        "secrets": {"api_key": TENANT_SECRET}})
    mine = await _send_one(sessions, deps, sender, tenant, make_touchpoint, make_envelope)
    theirs = await _send_one(sessions, deps, sender, other, make_touchpoint, make_envelope)
    now = str(int(time.time()))
    payload = json.dumps([{"event": "delivered", "timestamp": int(now), "sg_event_id": f"own-{m.id}",
                           "rapport_message_id": str(m.id)} for m in (mine, theirs)])

    def signed(key) -> dict:
        return {"X-Twilio-Email-Event-Webhook-Signature": key.sign(now, payload),
                "X-Twilio-Email-Event-Webhook-Timestamp": now, "Content-Type": "application/json"}

    assert (await client.post("/webhooks/sendgrid/events", content=payload, headers=signed(own_key))).status_code == 403
    wrong = await client.post(f"/webhooks/sendgrid/events?tenant={tenant}", content=payload, headers=signed(webhook_key))
    assert wrong.status_code == 403
    answer = await client.post(f"/webhooks/sendgrid/events?tenant={tenant}", content=payload, headers=signed(own_key))
    assert answer.json() == {"received": 2, "applied": 1}
    async with sessions() as session:
        states = dict((await session.execute(select(messages.c.id, messages.c.state)
                                             .where(messages.c.id.in_([mine.id, theirs.id])))).all())
    assert states == {mine.id: "delivered", theirs.id: "sent"}


async def test_an_account_sealed_under_an_earlier_key_falls_back_to_the_defaults(sessions, deps) -> None:
    from datetime import datetime, timezone

    from rapport_outreach.adapters import account_repository
    from rapport_outreach.adapters.secret_box import SecretBox
    from rapport_outreach.domain.accounts import ProviderAccount

    tenant = uuid.uuid4()
    account = ProviderAccount(tenant, "email", "sendgrid", {}, {"api_key": TENANT_SECRET})
    async with sessions() as session, session.begin():
        await account_repository.save(session, SecretBox("an-earlier-key"), account, datetime.now(timezone.utc))
    async with sessions() as session:
        assert (await deps.accounts.refresh(session, [tenant])) == {tenant: {}}


@pytest.mark.parametrize("channel,body,field", [
    ("email", {"provider": "twilio", "secrets": {"auth_token": "x"}}, "provider"),
    ("fax", {"provider": "sink"}, "channel"),
    ("email", {"provider": "sendgrid", "secrets": {}}, "secrets.api_key"),
    ("email", {"provider": "sendgrid", "secrets": {"api_key": "k"}, "settings": {"colour": "red"}}, "settings.colour"),
    ("email", {"provider": "smtp", "settings": {"host": "mail.example", "port": "25"}}, "settings.port"),
    ("sms", {"provider": "twilio", "settings": {"account_sid": "AC1"}, "secrets": {"auth_token": "t"}},
     "settings.messaging_service_sid"),
])
async def test_an_account_that_could_not_send_is_refused_naming_the_field(client, channel, body, field) -> None:
    headers = operator(uuid.uuid4())
    answer = await client.put(f"/v1/provider-accounts/{channel}", headers=headers, json=body)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, answer.text
    assert (await client.get("/v1/provider-accounts", headers=headers)).json()["accounts"] == []
