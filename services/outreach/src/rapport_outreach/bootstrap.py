"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.workers import run_consumer as run_bus_consumer
from rapport_shared.contracts.catalogue import CONSUMERS
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.runtime import check_kafka, check_postgres
from rapport_shared.web import Readiness, install_common

from rapport_outreach.config import Settings


def create_app(settings: Settings) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        yield
        await engine.dispose()

    app = FastAPI(title="Rapport outreach", version="1.0.0", lifespan=lifespan)
    install_common(app, settings.service_name, readiness)
    return app


async def handle(session: AsyncSession, envelope: Envelope) -> None:
    """Translate one event into a command for the message bus (skeleton: nothing yet)."""


async def run_consumer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    await run_bus_consumer(settings, engine, CONSUMERS["outreach"], handle)
