"""Fixtures of the scheduler suite: a migrated schema, the app in-process, a demo company's events."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.contracts.invoice import InvoiceBalanceChangedV1, InvoiceIssuedV1

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
ADMIN = "test-admin-token"


@pytest.fixture(scope="session")
def sched_settings(infra):
    from rapport_shared.migrations import upgrade_head

    from rapport_scheduler.config import Settings

    upgrade_head(MIGRATIONS, infra.database_url("scheduler"), "scheduler")
    return Settings(**infra.settings_overrides("scheduler"), admin_token=ADMIN, tick_s=0.1)


@pytest.fixture(scope="session")
async def sched_engine(sched_settings):
    from rapport_shared.db import make_engine

    engine = make_engine(sched_settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def sched_app(sched_settings):
    from rapport_scheduler.bootstrap import create_app

    app = create_app(sched_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def sched_http(sched_app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sched_app), base_url="http://scheduler.test") as http:
        yield http


@pytest.fixture
def feed(sched_settings, sched_engine):
    """Hand events to the scheduler the way its consumer does, then let a ticker decide what became due."""
    from rapport_shared.bus.inbox import Inbox
    from rapport_shared.contracts.catalogue import TopicNames
    from rapport_shared.db import make_session_factory

    from rapport_scheduler.bootstrap import make_bus
    from rapport_scheduler.service_layer.planning import Planner
    from rapport_scheduler.service_layer.ticker import Ticker

    bus, sessions, inbox = make_bus(sched_settings), make_session_factory(sched_engine), Inbox("scheduler", "scheduler")
    ticker = Ticker(sessions, Planner(TopicNames(sched_settings.topic_prefix)))

    async def _feed(*envelopes):
        for envelope in envelopes:
            async with sessions() as session, session.begin():
                if await inbox.claim(session, envelope):
                    await bus.handle(session, envelope)
            await ticker.drain()
    return _feed


class Company:
    """Events of one small tenant, built the way ingest would publish them."""

    def __init__(self, tenant_id: uuid.UUID | None = None) -> None:
        self.tenant_id = tenant_id or uuid.uuid4()
        self.headers = {"X-Tenant-Id": str(self.tenant_id), "X-Admin-Token": ADMIN}

    def event(self, payload, customer_id) -> Envelope:
        return make_event(payload, source="ingest", tenant_id=self.tenant_id, customer_key=customer_id)

    def customer(self, name: str = "Acme Ltd", country: str = "US", tz: str = "UTC", **kw) -> tuple[uuid.UUID, list[Envelope]]:
        cid = uuid.uuid4()
        customer = CustomerUpsertedV1(customer_id=cid, external_id=f"C-{cid.hex[:6]}", name=name, country=country,
                                      time_zone=tz, currency="USD", **kw)
        contact = ContactUpsertedV1(contact_id=uuid.uuid4(), customer_id=cid, name="Pat Payables",
                                    email=f"ap+{cid.hex[:6]}@example.com", phone="+15550100", is_primary=True,
                                    time_zone=tz)
        return cid, [self.event(customer, cid), self.event(contact, cid)]

    def invoice(self, cid: uuid.UUID, due: date, amount: str = "1200.00", currency: str = "USD",
                number: str | None = None) -> tuple[InvoiceIssuedV1, Envelope]:
        inv = InvoiceIssuedV1(invoice_id=uuid.uuid4(), customer_id=cid, number=number or f"INV-{uuid.uuid4().hex[:5]}",
                              issue_date=due - timedelta(days=30), due_date=due, currency=currency,
                              amount_total=Decimal(amount), open_amount=Decimal(amount), status="open")
        return inv, self.event(inv, cid)

    def paid(self, inv: InvoiceIssuedV1, version: int = 2) -> Envelope:
        data = inv.model_dump() | {"open_amount": Decimal(0), "status": "paid", "version": version,
                                   "cause": "payment", "delta": -inv.open_amount}
        return self.event(InvoiceBalanceChangedV1(**data), inv.customer_id)


@pytest.fixture
def company() -> Company:
    return Company()


class Db:
    """Read-only looks into the scheduler's tables, for assertions."""

    def __init__(self, engine) -> None:
        self.engine = engine

    async def now(self):
        from rapport_scheduler.adapters import clock

        async with self.engine.connect() as conn:
            return await clock.now(conn)

    async def rows(self, sql: str, **params) -> list:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).all()

    async def outbox(self, *, key: bytes | None = None, prefix: bytes | None = None,
                     event_type: str | None = None) -> list:
        """Events waiting in the outbox (packed rows opened), in order, with ``event_type`` and ``value``."""
        from types import SimpleNamespace

        from rapport_shared.bus.outbox import opened_rows

        rows = await self.rows("SELECT event_type, topic, key, value FROM scheduler.outbox ORDER BY id")
        return [SimpleNamespace(event_type=t, key=k, value=v) for t, k, v in opened_rows(rows)
                if (key is None or k == key) and (prefix is None or (k or b"").startswith(prefix))
                and (event_type is None or t == event_type)]

    async def execute(self, sql: str, **params) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), params)

    async def advance(self, delta: timedelta) -> None:
        from rapport_scheduler.adapters import clock

        async with self.engine.begin() as conn:
            await clock.advance(conn, delta)


@pytest.fixture
def db(sched_engine) -> Db:
    return Db(sched_engine)
