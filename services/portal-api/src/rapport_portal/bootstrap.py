"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.bus.workers import run_consumer as run_bus_consumer
from rapport_shared.contracts.catalogue import CONSUMERS, TopicNames
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.observability import configure_logging
from rapport_shared.runtime import check_kafka, check_postgres
from rapport_shared.time import Clock, SystemClock
from rapport_shared.web import Readiness, error_body, install_common

from rapport_portal.adapters.files import LocalFileStore
from rapport_portal.adapters.hot_reads import HotReads
from rapport_portal.adapters.stripe_checkout import StripeCheckout
from rapport_portal.config import Settings
from rapport_portal.domain import errors
from rapport_portal.domain.plans import PlanLimits
from rapport_portal.domain.ratelimit import RateLimit
from rapport_portal.entrypoints.api import account_routes, action_routes, admin_routes, auth_routes
from rapport_portal.entrypoints.web import routes as web_routes
from rapport_portal.service_layer import projections
from rapport_portal.service_layer.context import CheckoutGateway, Portal

STATUS = {errors.NotFound: 404, errors.Invalid: 422, errors.Conflict: 409, errors.Unauthorized: 401,
          errors.RateLimited: 429, errors.PaymentProviderError: 502}


def build_portal(settings: Settings, engine: AsyncEngine, clock: Clock | None = None,
                 checkout: CheckoutGateway | None = None) -> Portal:
    clock = clock or SystemClock()
    return Portal(
        sessions=make_session_factory(engine),
        reads=make_session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")),
        outbox=Outbox(settings.db_schema, TopicNames(settings.topic_prefix)),
        clock=clock,
        link_secret=settings.link_secret,
        base_url=settings.base_url,
        link_ttl_minutes=settings.link_ttl_minutes,
        session_ttl_minutes=settings.session_ttl_minutes,
        default_plan_limits=PlanLimits(settings.plan_max_instalments, settings.plan_max_days),
        upload_max_bytes=settings.upload_max_bytes,
        checkout=checkout or StripeCheckout(settings.stripe_api_key, settings.stripe_api_base),
        files=LocalFileStore(settings.upload_dir),
        login_per_ip=RateLimit("ip", settings.login_per_ip_per_minute, timedelta(minutes=1)),
        login_per_email=RateLimit("email", settings.login_per_email_per_hour, timedelta(hours=1)),
        hot=HotReads(settings.database_url, settings.db_schema),
    )


def create_app(settings: Settings, *, clock: Clock | None = None, checkout: CheckoutGateway | None = None) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.portal = build_portal(settings, engine, clock, checkout)
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        # What exists now (modules, app, templates) lives as long as the process: keep the cyclic
        # collector from re-scanning it on every young-generation overflow under load.
        gc.collect()
        gc.freeze()
        yield
        await app.state.portal.hot.close()
        await engine.dispose()

    app = FastAPI(title="Rapport portal-api", version="1.0.0", lifespan=lifespan,
                  description="Customer self-service: see, pay, dispute, plan, promise. Sessions come from magic links.")
    install_common(app, settings.service_name, readiness)
    app.add_exception_handler(errors.PortalError, _portal_error)
    for module in (auth_routes, account_routes, action_routes, admin_routes, web_routes):
        app.include_router(module.router)
    app.add_api_route("/", lambda: RedirectResponse("/portal"), include_in_schema=False)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn's worker processes: settings from the environment, like ``rapport-portal api``."""
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    return create_app(settings)


async def _portal_error(request: Request, exc: errors.PortalError) -> JSONResponse:
    """Domain errors to HTTP, in one place."""
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    body = error_body(f"{exc.field}: {exc.reason}" if exc.field else exc.reason,
                      [{"field": exc.field, "reason": exc.reason}] if exc.field else [])
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, errors.RateLimited) else None
    return JSONResponse(body, status_code=status, headers=headers)


async def handle(session: AsyncSession, envelope: Envelope) -> None:
    """One event from customer/invoice/payment/outreach/task into the read model."""
    await projections.project(session, envelope)


async def run_consumer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    await run_bus_consumer(settings, engine, CONSUMERS["portal-api"], handle)
