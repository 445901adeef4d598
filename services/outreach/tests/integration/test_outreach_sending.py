"""Touchpoints become messages, the sender delivers them through the SDKs, and every outcome is recorded."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from rapport_shared.contracts.envelope import Envelope

from rapport_outreach.adapters import repository
from rapport_outreach.adapters.orm import dead_letters, messages, outbox
from rapport_outreach.bootstrap import make_handler

pytestmark = pytest.mark.integration
TENANT = uuid.uuid4()


async def _consume(sessions, deps, envelope) -> None:
    async with sessions() as session, session.begin():
        await make_handler(deps)(session, envelope)


async def _rows(sessions, tp) -> list:
    async with sessions() as session:
        return list((await session.execute(
            select(messages).where(messages.c.touchpoint_id == tp.touchpoint_id).order_by(messages.c.channel))).all())


async def _events(sessions, message_id) -> list[str]:
    async with sessions() as session:
        rows = (await session.execute(select(outbox.c.value, outbox.c.event_type))).all()
    return [r.event_type for r in rows if str(message_id).encode() in r.value]


async def _drain(sender) -> None:
    while await sender.run_once():
        pass


async def test_touchpoint_is_sent_once_through_sendgrid(sessions, deps, sender, sendgrid_fake,
                                                        make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _consume(sessions, deps, make_envelope(tp, TENANT))  # redelivered as a new event: no second message
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "sent" and row.provider == "sendgrid" and row.attempts == 1
    assert len(sendgrid_fake.accepted) == 1 and sendgrid_fake.invalid == []
    body = sendgrid_fake.accepted[0]["body"]
    assert body["custom_args"]["rapport_message_id"] == str(row.id)
    assert "1\u202f250,00\xa0€" in body["content"][0]["value"] and "Bonjour Alex Dupont" in body["content"][0]["value"]
    assert "/portal/login?token=" in body["content"][0]["value"]
    assert await _events(sessions, row.id) == ["rapport.outreach.sent.v1"]


async def test_suppressed_email_falls_back_to_sms_then_to_a_call(sessions, deps, sender, twilio_fake,
                                                                 make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint(fallback_channels=["sms"])
    async with sessions() as session, session.begin():
        await repository.add_suppression(session, TENANT, "email", tp.recipient.email, "hard_bounce", None)
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.channel == "sms" and row.state == "sent" and twilio_fake.accepted[0]["form"]["To"] == tp.recipient.phone

    both = make_touchpoint(fallback_channels=["sms"])
    async with sessions() as session, session.begin():
        await repository.add_suppression(session, TENANT, "email", both.recipient.email, "unsubscribe", None)
        await repository.add_suppression(session, TENANT, "sms", both.recipient.phone, "stop", None)
    await _consume(sessions, deps, make_envelope(both, TENANT))
    [call] = await _rows(sessions, both)
    assert call.channel == "call" and call.state == "task_requested"
    assert "email: on the suppression list" in call.body_text and "sms: on the suppression list" in call.body_text
    assert await _events(sessions, call.id) == ["rapport.outreach.call_task_requested.v1"]


async def test_suppression_arriving_after_queueing_diverts_at_send_time(sessions, deps, sender, sendgrid_fake,
                                                                        twilio_fake, make_touchpoint,
                                                                        make_envelope) -> None:
    tp = make_touchpoint(fallback_channels=["sms"])
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    async with sessions() as session, session.begin():
        await repository.add_suppression(session, TENANT, "email", tp.recipient.email.upper(), "spam_report", None)
    await _drain(sender)
    await _drain(sender)
    email, sms = await _rows(sessions, tp)
    assert email.state == "suppressed" and sms.state == "sent"
    assert sendgrid_fake.seen == [] and len(twilio_fake.accepted) == 1


async def test_call_step_becomes_a_task_without_any_provider(sessions, deps, sender, sendgrid_fake,
                                                             make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint(channel="call")
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "task_requested" and sendgrid_fake.seen == []


async def test_429_is_retried_after_retry_after_then_sent(sessions, deps, sender, sendgrid_fake,
                                                          make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    sendgrid_fake.retry_after_s = 60
    sendgrid_fake.answer_next("429")
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "queued" and row.attempts == 1 and "429" in row.last_error
    assert row.next_attempt_at >= row.updated_at + timedelta(seconds=59)
    async with sessions() as session, session.begin():  # time passes
        await session.execute(update(messages).where(messages.c.id == row.id)
                              .values(next_attempt_at=row.updated_at - timedelta(seconds=1)))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "sent" and row.attempts == 2 and len(sendgrid_fake.accepted) == 1


async def test_repeated_500s_end_in_a_dead_letter_and_a_failed_event(sessions, deps, sender, sendgrid_fake,
                                                                      make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    sendgrid_fake.answer_next("500", "500", "500")
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    for _ in range(3):
        async with sessions() as session, session.begin():
            await session.execute(update(messages).where(messages.c.touchpoint_id == tp.touchpoint_id)
                                  .values(next_attempt_at=messages.c.created_at))
        await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "failed" and len(sendgrid_fake.seen) == 3 and sendgrid_fake.accepted == []
    async with sessions() as session:
        letter = (await session.execute(select(dead_letters).where(dead_letters.c.message_id == row.id))).one()
    assert letter.attempts == 3 and "500" in letter.reason
    assert await _events(sessions, row.id) == ["rapport.outreach.failed.v1"]


async def test_a_timeout_leaves_the_message_uncertain_and_never_resends(sessions, deps, sender, sendgrid_fake,
                                                                        make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    sendgrid_fake.answer_next("timeout")
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "uncertain" and len(sendgrid_fake.seen) == 1
    assert await _events(sessions, row.id) == ["rapport.outreach.uncertain.v1"]


async def test_recovery_turns_leftover_sending_rows_uncertain(sessions, deps, sender, sendgrid_fake,
                                                              make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint()
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    async with sessions() as session, session.begin():  # as if a sender died mid-call
        await session.execute(update(messages).where(messages.c.touchpoint_id == tp.touchpoint_id)
                              .values(state="sending"))
    assert await sender.recover() >= 1
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "uncertain" and sendgrid_fake.seen == []
    assert await _events(sessions, row.id) == ["rapport.outreach.uncertain.v1"]


async def test_send_not_before_is_respected(sessions, deps, sender, sendgrid_fake, make_touchpoint,
                                            make_envelope) -> None:
    tp = make_touchpoint(send_not_before=deps.clock.now() + timedelta(hours=3))
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "queued" and sendgrid_fake.seen == []


async def test_magic_link_request_sends_the_portal_link(sessions, deps, sender, sendgrid_fake) -> None:
    from rapport_shared.contracts.envelope import make_event
    from rapport_shared.contracts.portal import MagicLinkRequestedV1

    link = "http://127.0.0.1:8005/portal/login?token=abc.def"
    request = MagicLinkRequestedV1(request_id=uuid.uuid4(), customer_id=uuid.uuid4(), requested_at=deps.clock.now(),
                                   email="Pay@Example.com", link_url=link, locale="es",
                                   expires_at=deps.clock.now() + timedelta(minutes=30))
    envelope: Envelope = make_event(request, source="portal-api", tenant_id=TENANT, customer_key=request.customer_id)
    await _consume(sessions, deps, envelope)
    await _drain(sender)
    [body] = [a["body"] for a in sendgrid_fake.accepted if a["body"]["subject"] == "Su enlace de acceso"]
    assert body["subject"] == "Su enlace de acceso" and link in body["content"][0]["value"]
    assert body["personalizations"][0]["to"][0]["email"] == "Pay@Example.com"


async def test_contact_opt_outs_and_consent_block_channels_and_old_snapshots_do_not_win(
        sessions, deps, sender, sendgrid_fake, twilio_fake, make_touchpoint, make_envelope) -> None:
    from rapport_shared.contracts.customer import ContactUpsertedV1

    tp = make_touchpoint(fallback_channels=["sms"])
    contact = dict(contact_id=tp.recipient.contact_id, customer_id=tp.customer.customer_id, name="Alex Dupont",
                   email=tp.recipient.email, phone=tp.recipient.phone)
    newer = ContactUpsertedV1(**contact, opted_out_channels=["email"], consent_sms=False, version=2)
    older = ContactUpsertedV1(**contact, consent_sms=True, version=1)
    await _consume(sessions, deps, make_envelope(newer, TENANT))
    await _consume(sessions, deps, make_envelope(older, TENANT))
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.channel == "call" and row.state == "task_requested"
    assert row.body_text == "email: contact opted out or gave no consent; sms: contact opted out or gave no consent"
    assert sendgrid_fake.seen == [] and twilio_fake.seen == []


async def test_voice_step_places_an_automated_call_in_the_contacts_language(
        sessions, deps, sender, twilio_fake, make_touchpoint, make_envelope) -> None:
    tp = make_touchpoint(channel="voice", template_key="due_today")
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.channel == "voice" and row.state == "sent" and row.provider_message_id.startswith("CA")
    [call] = [a["form"] for a in twilio_fake.accepted if "Twiml" in a["form"]]
    assert call["To"] == tp.recipient.phone and 'language="fr-FR"' in call["Twiml"]
    assert "Northwind Traders" in call["Twiml"] and "token=" not in call["Twiml"]


async def test_a_message_held_past_its_window_is_not_sent(sessions, deps, sender, sendgrid_fake, make_touchpoint,
                                                          make_envelope) -> None:
    now = deps.clock.now()
    tp = make_touchpoint(send_not_after=now + timedelta(seconds=1))
    await _consume(sessions, deps, make_envelope(tp, TENANT))
    async with sessions() as session, session.begin():  # as if retries had held it until after the window
        await session.execute(update(messages).where(messages.c.touchpoint_id == tp.touchpoint_id).values(
            touchpoint=tp.model_copy(update={"send_not_after": now - timedelta(hours=1)}).model_dump(mode="json")))
    await _drain(sender)
    [row] = await _rows(sessions, tp)
    assert row.state == "failed" and "window closed" in row.last_error and sendgrid_fake.seen == []
    assert await _events(sessions, row.id) == ["rapport.outreach.failed.v1"]
