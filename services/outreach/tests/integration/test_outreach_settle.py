"""Uncertain messages are never resent on their own; a collector's settlement decides, and is audited."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from rapport_shared.bus import codec

from rapport_outreach.adapters.orm import messages, outbox
from rapport_outreach.bootstrap import make_handler
from rapport_outreach.testing.auth import operator

pytestmark = pytest.mark.integration
TENANT = uuid.uuid4()
HEADERS = operator(TENANT)


async def _uncertain_message(sessions, deps, sender, sendgrid_fake, tp, envelope):
    """Queue a touchpoint and let the provider time out after receiving it: the message becomes uncertain."""
    async with sessions() as session, session.begin():
        await make_handler(deps)(session, envelope)
    sendgrid_fake.answer_next("timeout")
    while await sender.run_once():
        pass
    async with sessions() as session:
        return (await session.execute(select(messages).where(messages.c.touchpoint_id == tp.touchpoint_id))).one()


async def _outbox_events(sessions, message_id) -> list:
    async with sessions() as session:
        rows = (await session.execute(select(outbox.c.value).order_by(outbox.c.id))).all()
    envelopes = [codec.decode(r.value) for r in rows]
    return [e for e in envelopes if e.data.get("message_id") == str(message_id)]


async def test_not_sent_settlement_allows_exactly_one_resend(sessions, deps, sender, sendgrid_fake, client,
                                                             make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    row = await _uncertain_message(sessions, deps, sender, sendgrid_fake, tp, make_envelope(tp, TENANT))
    assert row.state == "uncertain" and len(sendgrid_fake.seen) == 1
    for _ in range(3):  # however often the sender runs, an uncertain message stays unsent
        await sender.run_once()
    assert len(sendgrid_fake.seen) == 1

    answer = await client.post(f"/v1/messages/{row.id}/settle", headers=HEADERS,
                               json={"resolution": "not_sent", "settled_by": "camille@acme.example",
                                     "note": "not in SendGrid's activity feed"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "queued"
    assert any(e["kind"] == "settled_not_sent" and "camille@acme.example" in e["detail"]
               for e in answer.json()["events"])
    for _ in range(3):
        await sender.run_once()
    # The ambiguous call and exactly one resend (the fake may still record the first one late).
    assert [r["message_id"] for r in sendgrid_fake.seen] == [str(row.id)] * 2
    async with sessions() as session:
        state = (await session.execute(select(messages.c.state).where(messages.c.id == row.id))).scalar_one()
    assert state == "sent"

    again = await client.post(f"/v1/messages/{row.id}/settle", headers=HEADERS,
                              json={"resolution": "not_sent", "settled_by": "camille@acme.example"})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "state"
    types = [e.type for e in await _outbox_events(sessions, row.id)]
    assert types == ["rapport.outreach.uncertain.v1", "rapport.outreach.settled.v1", "rapport.outreach.sent.v1"]


async def test_sent_settlement_marks_it_sent_without_calling_the_provider(
        sessions, deps, sender, sendgrid_fake, client, make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    row = await _uncertain_message(sessions, deps, sender, sendgrid_fake, tp, make_envelope(tp, TENANT))
    answer = await client.post(f"/v1/messages/{row.id}/settle", headers=HEADERS,
                               json={"resolution": "sent", "settled_by": "Camille Martin"})
    assert answer.status_code == 200 and answer.json()["state"] == "sent" and answer.json()["sent_at"]
    while await sender.run_once():
        pass
    assert len(sendgrid_fake.seen) == 1  # only the original, ambiguous call
    events = await _outbox_events(sessions, row.id)
    settled = next(e for e in events if e.type == "rapport.outreach.settled.v1")
    assert settled.data["resolution"] == "sent" and settled.data["settled_by"] == "Camille Martin"
    assert [e.type for e in events][-1] == "rapport.outreach.sent.v1"


async def test_settlement_input_is_checked_and_scoped_to_the_tenant(
        sessions, deps, sender, sendgrid_fake, client, make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    row = await _uncertain_message(sessions, deps, sender, sendgrid_fake, tp, make_envelope(tp, TENANT))
    url = f"/v1/messages/{row.id}/settle"
    bad = await client.post(url, headers=HEADERS, json={"resolution": "maybe", "settled_by": "x"})
    assert bad.status_code == 422 and "resolution" in bad.json()["errors"][0]["field"]
    anonymous = await client.post(url, headers=HEADERS, json={"resolution": "sent", "settled_by": "  "})
    assert anonymous.status_code == 422 and "settled_by" in anonymous.json()["errors"][0]["field"]
    other = await client.post(url, headers=operator(uuid.uuid4()),
                              json={"resolution": "not_sent", "settled_by": "someone"})
    assert other.status_code == 404
    async with sessions() as session:
        state = (await session.execute(select(messages.c.state).where(messages.c.id == row.id))).scalar_one()
    assert state == "uncertain"  # nothing half-written by the refused requests
