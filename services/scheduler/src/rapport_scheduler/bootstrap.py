"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.bus.workers import run_consumer as run_bus_consumer, wait_for_infra
from rapport_shared.contracts.catalogue import CONSUMERS, TopicNames
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.observability import get_logger
from rapport_shared.runtime import check_kafka, check_postgres, install_stop_signals
from rapport_shared.time import Clock, SystemClock
from rapport_shared.web import Readiness, error_body, install_common

from rapport_scheduler.config import Settings
from rapport_scheduler.domain.errors import SchedulerError
from rapport_scheduler.entrypoints.api import admin, policies, settings as settings_api, workspace
from rapport_scheduler.service_layer.bus import EventBus
from rapport_scheduler.service_layer.planning import Planner
from rapport_scheduler.service_layer.ticker import Ticker

log = get_logger(__name__)


def warm_calendar() -> None:
    """Load the holiday tables once at start-up, not inside the first decision (seconds on a cold start)."""
    from datetime import date

    from rapport_scheduler.domain.calendar import SendCalendar

    SendCalendar().is_business_day(date.today(), "US")


def tune_gc() -> None:
    """Workers allocate many short-lived objects per batch; without this the collector keeps rescanning
    the long-lived ones (modules, holiday tables, cached policies), a measurable share of CPU per decision."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def make_bus(settings: Settings, base_clock: Clock | None = None) -> EventBus:
    topics = TopicNames(settings.topic_prefix)
    outbox = Outbox(settings.db_schema, topics)
    return EventBus(outbox, Planner(topics), base_clock or SystemClock())


def create_app(settings: Settings, base_clock: Clock | None = None) -> FastAPI:
    readiness = Readiness()
    bus = make_bus(settings, base_clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        app.state.outbox, app.state.planner, app.state.base_clock = bus.outbox, bus.planner, bus.base_clock
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        yield
        await engine.dispose()

    app = FastAPI(title="Rapport scheduler", version="1.0.0", lifespan=lifespan)
    install_common(app, settings.service_name, readiness)

    @app.exception_handler(SchedulerError)
    async def _domain_error(request: Request, exc: SchedulerError) -> JSONResponse:
        errors = [{"field": exc.field, "reason": exc.reason}] if exc.field else []
        return JSONResponse(error_body(str(exc), errors), status_code=exc.status)

    for module in (policies, admin, settings_api, workspace):
        app.include_router(module.router)
    return app


async def handle(session: AsyncSession, envelope: Envelope, settings: Settings | None = None) -> None:
    """Translate one event into the scheduler's handlers (inside the consumer's transaction)."""
    await make_bus(settings or Settings()).handle(session, envelope)


async def run_consumer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    warm_calendar()
    tune_gc()
    await run_bus_consumer(settings, engine, CONSUMERS["scheduler"], make_bus(settings).handle)


async def run_ticker(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=settings.tick_concurrency + 1)  # batches + LISTEN
    await wait_for_infra(settings, engine)
    warm_calendar()
    tune_gc()
    bus = make_bus(settings)
    ticker = Ticker(make_session_factory(engine), bus.planner, base_clock=bus.base_clock,
                    batch_size=settings.tick_batch_size, concurrency=settings.tick_concurrency)
    install_stop_signals(ticker.stop)
    log.info("ticker started", interval_s=settings.tick_s)
    try:
        await ticker.run(settings.tick_s, engine)
    finally:
        await engine.dispose()
        log.info("ticker stopped", touchpoints=ticker.touchpoints)
