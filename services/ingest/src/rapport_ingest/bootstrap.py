"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.bus.workers import run_consumer as run_bus_consumer
from rapport_shared.contracts.catalogue import CONSUMERS, TopicNames
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.db import make_engine, make_session_factory, to_async_url
from rapport_shared.runtime import check_kafka, check_postgres
from rapport_shared.time import Clock, SystemClock
from rapport_shared.web import Readiness, install_common

from rapport_ingest.config import Settings
from rapport_ingest.service_layer import invoice_post, status
from rapport_ingest.service_layer.tenancy import KeyCache, authenticate
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def make_outbox(settings: Settings) -> Outbox:
    return Outbox(settings.db_schema, TopicNames(settings.topic_prefix))


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    from rapport_ingest.entrypoints.api import admin_routes, import_routes, ledger_routes, webhook_routes
    from rapport_ingest.service_layer.imports import ImportWorker

    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        app.state.outbox = make_outbox(settings)
        app.state.clock = clock or SystemClock()
        app.state.key_cache = KeyCache(settings.key_cache_ttl_s)
        # The hot POST /v1/invoices runs on plain asyncpg connections (see service_layer.invoice_post).
        app.state.fast_pool = await asyncpg.create_pool(
            to_async_url(settings.database_url).replace("postgresql+asyncpg://", "postgresql://", 1),
            # Opened warm: a connection made on demand (connect, authenticate, the jsonb codec's catalogue
            # queries) took tens of ms from the first requests of a burst, enough to set the p99.
            min_size=min(invoice_post.WARM_CONNECTIONS, settings.fast_pool_size), max_size=settings.fast_pool_size,
            init=invoice_post.init_connection,
            server_settings={"application_name": invoice_post.APPLICATION_NAME})
        app.state.invoice_poster = invoice_post.InvoicePoster(settings.db_schema, TopicNames(settings.topic_prefix)("invoice"))
        await invoice_post.warm(app.state.fast_pool, app.state.invoice_poster)
        # The first request's key lookup would otherwise pay the dialect's first-connect queries and the
        # ORM statement's compilation (tens of ms during which a burst queues): a lookup of no key, once.
        await authenticate(app.state.sessions, "rk_warmup_0", KeyCache(0))
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        worker = ImportWorker(engine, app.state.outbox, app.state.clock, settings)
        task = asyncio.create_task(worker.run())
        yield
        worker.stop()
        await task
        await app.state.fast_pool.close()
        await engine.dispose()

    app = FastAPI(title="Rapport ingest", version="1.0.0", lifespan=lifespan,
                  description="The receivables ledger: ERP/CRM API, bulk import, cash application, payment webhooks.")
    install_common(app, settings.service_name, readiness)
    for module in (admin_routes, ledger_routes, import_routes, webhook_routes):
        app.include_router(module.router)
    return app


def make_handler(settings: Settings, clock: Clock | None = None) -> Handler:
    outbox, clock = make_outbox(settings), clock or SystemClock()

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        """Status facts for the read-back, and the portal requests that change the ledger."""
        await status.on_event(UnitOfWork(session, envelope.tenant_id, outbox, clock, causation=envelope), envelope)

    return handle


_default: Handler | None = None


async def handle(session: AsyncSession, envelope: Envelope) -> None:
    """The consumer's handler with settings from the environment (built on first use, not at import)."""
    global _default
    if _default is None:
        _default = make_handler(Settings())
    await _default(session, envelope)


async def run_consumer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    await run_bus_consumer(settings, engine, CONSUMERS["ingest"], make_handler(settings))
