"""The consumer's two statements straight through asyncpg give exactly what the ORM path gives.

The driver path is taken only once the session's transaction has begun on the server (else a
statement would commit on its own); its errors are raised as the SQLAlchemy errors the consumer
classifies (a lost connection or a deadlock is retried, never dead-lettered).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import asyncpg
import pytest
from sqlalchemy import select, text

from rapport_shared.bus.batch import is_transient

from rapport_outreach.adapters import repository, template_repository
from rapport_outreach.adapters.orm import messages
from rapport_outreach.adapters.repository import _as_sqlalchemy_error, _driver
from rapport_outreach.domain.model import Draft
from rapport_outreach.service_layer.handlers import message_row

pytestmark = pytest.mark.integration


async def _begun(session) -> None:  # noqa: ANN001
    await session.execute(text("SELECT 1"))


async def test_the_driver_is_used_only_inside_a_begun_transaction(sessions) -> None:
    async with sessions() as session, session.begin():
        assert await _driver(session) is None  # BEGIN has not been sent yet
        await _begun(session)
        driver = await _driver(session)
        assert driver is not None and driver.is_in_transaction()


async def test_recipient_facts_match_the_orm_path(sessions) -> None:
    tenant, contact = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(timezone.utc)
    async with sessions() as session, session.begin():
        await repository.upsert_contact(session, {
            "tenant_id": tenant, "contact_id": contact, "customer_id": uuid.uuid4(), "name": "Zoé",
            "email": "zoe@example.com", "phone": "+33612345678", "locale": "fr",
            "opted_out_channels": ["sms"], "version": 1})
        await repository.add_suppression(session, tenant, "email", "zoe@example.com", "bounce", contact)
        for tone in ("firm", ""):
            await template_repository.upsert_template(session, {
                "id": uuid.uuid4(), "tenant_id": tenant, "key": "due_today", "tone": tone, "locale": "fr",
                "segment": "", "subject": f"Échéance {tone}", "body_text": "t", "body_html": "<p>h</p>",
                "sms": "s"}, now)
    keys = [("email", "zoe@example.com"), ("sms", "+33612345678")]
    cases = [(contact, keys, "due_today", "fr"), (uuid.uuid4(), keys, "due_today", "fr"), (None, [], "final_notice", "en"),
             (contact, [("email", "other@example.com")], "due_today", "de")]
    for case in cases:
        async with sessions() as session, session.begin():
            orm = await repository.recipient_facts(session, tenant, *case)  # first statement: the ORM path
            assert await _driver(session) is not None
            fast = await repository.recipient_facts(session, tenant, *case)
        assert fast.opted_out == orm.opted_out and fast.suppressed == orm.suppressed
        assert sorted(fast.overrides, key=repr) == sorted(orm.overrides, key=repr)
    async with sessions() as session, session.begin():
        await _begun(session)
        facts = await repository.recipient_facts(session, tenant, *cases[0])
    assert facts.opted_out == {"sms"} and facts.suppressed == {"email"}
    assert {o.tone for o in facts.overrides} == {"firm", ""} and facts.overrides[0].source.subject.startswith("Échéance")


async def test_insert_message_through_the_driver_stores_the_row_and_refuses_a_second_one(
        sessions, deps, make_touchpoint) -> None:
    tenant, tp = uuid.uuid4(), make_touchpoint()
    row = message_row(deps, tenant, tp, Draft("email", "ap@example.com", "Sujet é", "texte", "<p>x</p>"), None, "sendgrid")
    async with sessions() as session, session.begin():
        await _begun(session)
        assert await repository.insert_message(session, row)
        again = {**row, "id": uuid.uuid4()}
        assert not await repository.insert_message(session, again)  # same touchpoint and channel
    async with sessions() as session:
        stored = (await session.execute(select(messages).where(messages.c.touchpoint_id == tp.touchpoint_id))).all()
    assert len(stored) == 1
    got = stored[0]
    assert got.id == row["id"] and got.state == "queued" and got.attempts == 0 and got.subject == "Sujet é"
    assert got.invoice_ids == row["invoice_ids"] and got.touchpoint == row["touchpoint"]
    assert got.next_attempt_at == row["next_attempt_at"] and got.correlation_id is None


async def test_a_rolled_back_transaction_takes_the_driver_insert_with_it(sessions, deps, make_touchpoint) -> None:
    tenant, tp = uuid.uuid4(), make_touchpoint()
    row = message_row(deps, tenant, tp, Draft("email", "ap@example.com", "s", "t", None), None, "sendgrid")
    async with sessions() as session:
        async with session.begin():
            await _begun(session)
            async with session.begin_nested() as savepoint:
                assert await repository.insert_message(session, row)
                await savepoint.rollback()
            assert await repository.insert_message(session, {**row, "id": uuid.uuid4()})
            await session.rollback()
    async with sessions() as session:
        found = (await session.execute(select(messages.c.id).where(messages.c.touchpoint_id == tp.touchpoint_id))).all()
    assert found == []


@pytest.mark.parametrize("error,transient", [
    (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), True),
    (asyncpg.exceptions.SerializationError("could not serialize"), True),
    (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), True),
    (asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress"), True),
    (ConnectionResetError("reset by peer"), True),
    (asyncpg.exceptions.NotNullViolationError("null value"), False),
])
def test_driver_errors_are_classified_like_the_orm_paths(error, transient) -> None:
    translated = _as_sqlalchemy_error("INSERT ...", error)
    assert is_transient(translated) is transient and translated.orig is error
