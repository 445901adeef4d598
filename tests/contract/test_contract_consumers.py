"""Every golden example of every topic a service consumes goes through that service's handler.

The handler runs exactly as the consumer runner runs it (inbox claim + handler in one
transaction) against the service's migrated schema. A record the service can never use
must come out as ``PoisonMessage`` (the documented dead-letter outcome), never as a crash.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from sqlalchemy import text

from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.bus.inbox import Inbox
from rapport_shared.contracts.catalogue import CONSUMERS
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.infra.naming import schema_of
from rapport_shared.migrations import upgrade_head

from .examples import examples_for

pytestmark = [pytest.mark.integration]

PACKAGES = {"ingest": "ingest", "scheduler": "scheduler", "outreach": "outreach", "scoring": "scoring", "portal-api": "portal"}
REPO = Path(__file__).resolve().parents[2]


def _handler(service: str):
    bootstrap = importlib.import_module(f"rapport_{PACKAGES[service]}.bootstrap")
    return bootstrap.handle


@pytest.fixture
def service_environment(infra, monkeypatch):
    """Handlers wire themselves from the environment: point them at this run's slice and topic prefix."""
    for name in ("RAPPORT_KAFKA_BOOTSTRAP", "RAPPORT_DATABASE_URL", "RAPPORT_DATABASE_NAME", "RAPPORT_TOPIC_PREFIX"):
        monkeypatch.setenv(name, infra.env()[name])


@pytest.mark.parametrize("service", sorted(CONSUMERS))
async def test_consumer_handles_every_example_of_its_topics(infra, service, service_environment):
    schema = schema_of(service)
    upgrade_head(REPO / "services" / service / "migrations", infra.database_url(service), schema)
    handle = _handler(service)
    engine = make_engine(infra.database_url(service), pool_size=1)
    sessions = make_session_factory(engine)
    inbox = Inbox(schema, f"contract-{service}")
    outcomes: dict[str, str] = {}
    try:
        for envelope in examples_for(CONSUMERS[service]):
            outcomes[envelope.type] = await _run_once(sessions, inbox, handle, envelope)
            # Handled twice, the second time the inbox must swallow it.
            assert await _run_once(sessions, inbox, handle, envelope) in ("duplicate", "poison"), envelope.type
        async with engine.connect() as conn:
            topics = (await conn.execute(text(f'SELECT DISTINCT topic FROM "{schema}".outbox'))).scalars().all()
        # A row for an unprefixed topic would block this slice's relay for good.
        assert all(t.startswith(infra.topic_prefix) for t in topics), topics
    finally:
        await engine.dispose()
    print(f"\n{service}: " + ", ".join(f"{t}={o}" for t, o in outcomes.items()))
    assert set(outcomes) == {e.type for e in examples_for(CONSUMERS[service])}
    assert "handled" in outcomes.values(), f"{service} handled none of its topics' examples"


async def _run_once(sessions, inbox, handle, envelope) -> str:
    try:
        async with sessions() as session, session.begin():
            if not await inbox.claim(session, envelope):
                return "duplicate"
            await handle(session, envelope)
    except PoisonMessage:
        return "poison"
    return "handled"
