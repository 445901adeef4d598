"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.bus.workers import run_consumer as run_bus_consumer
from rapport_shared.bus.workers import wait_for_infra
from rapport_shared.contracts.catalogue import CONSUMERS, TopicNames
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.observability import get_logger
from rapport_shared.runtime import check_kafka, check_postgres, install_stop_signals
from rapport_shared.time import Clock, SystemClock
from rapport_shared.web import Readiness, install_common

from rapport_scoring.config import Settings
from rapport_scoring.entrypoints.api.analytics import router as analytics_router
from rapport_scoring.service_layer import handlers, training
from rapport_scoring.service_layer.models_cache import ModelCache
from rapport_scoring.service_layer.rescoring import Rescorer

log = get_logger(__name__)


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.clock = clock or SystemClock()
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        yield
        await engine.dispose()

    app = FastAPI(title="Rapport scoring", version="1.0.0", lifespan=lifespan)
    install_common(app, settings.service_name, readiness)
    app.include_router(analytics_router)
    return app


def make_rescorer(settings: Settings, clock: Clock | None = None) -> Rescorer:
    return Rescorer(Outbox(settings.db_schema, TopicNames(settings.topic_prefix)),
                    ModelCache(ttl_s=settings.model_refresh_s), clock or SystemClock())


def make_handler(rescorer: Rescorer):
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        await handlers.handle(session, envelope, rescorer)

    return handle


_default: Rescorer | None = None


async def handle(session: AsyncSession, envelope: Envelope) -> None:
    """The consumer's handler with default wiring (for callers that only have a session)."""
    global _default
    _default = _default or make_rescorer(Settings())
    await handlers.handle(session, envelope, _default)


async def run_consumer(settings: Settings, clock: Clock | None = None) -> None:
    engine = make_engine(settings.database_url)
    await run_bus_consumer(settings, engine, CONSUMERS["scoring"], make_handler(make_rescorer(settings, clock)))


async def run_trainer(settings: Settings, clock: Clock | None = None) -> None:
    """Retrain every tenant now and then every ``retrain_interval_s`` until SIGTERM."""
    engine = make_engine(settings.database_url, pool_size=2)
    await wait_for_infra(settings, engine)
    sessions, stop = make_session_factory(engine), asyncio.Event()
    install_stop_signals(stop.set)
    log.info("trainer started", interval_s=settings.retrain_interval_s)
    while not stop.is_set():
        results = await training.retrain_all(sessions, clock or SystemClock())
        log.info("retraining done", models=[r.version for r in results])
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.retrain_interval_s)
        except asyncio.TimeoutError:
            pass
    await engine.dispose()
    log.info("trainer stopped")
