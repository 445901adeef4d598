"""Composition root: the one place settings are read into objects and wired together."""
from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.bus.workers import run_consumer as run_bus_consumer
from rapport_shared.contracts.catalogue import CONSUMERS, TopicNames
from rapport_shared.contracts.customer import ContactUpsertedV1
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.portal import MagicLinkRequestedV1
from rapport_shared.contracts.touchpoint import TouchpointDueV1
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.runtime import check_kafka, check_postgres
from rapport_shared.time import Clock, SystemClock
from rapport_shared.web import Readiness, error_body, install_common

from rapport_outreach.adapters.providers.http_pool import HttpPool
from rapport_outreach.adapters.secret_box import SecretBox
from rapport_outreach.adapters.providers.sendgrid import SendGridProvider
from rapport_outreach.adapters.providers.sink import NoopProvider, SinkProvider
from rapport_outreach.adapters.providers.smtp import SmtpProvider
from rapport_outreach.adapters.providers.twilio import TwilioSmsProvider
from rapport_outreach.adapters.providers.twilio_voice import TwilioVoiceProvider
from rapport_outreach.config import Settings
from rapport_outreach.domain.accounts import ProviderAccount
from rapport_outreach.domain.errors import Conflict, NotFound, OutreachError
from rapport_outreach.domain.model import RetryPolicy
from rapport_outreach.entrypoints.api import accounts, keys, messages, templates, webhooks
from rapport_outreach.service_layer import handlers
from rapport_outreach.service_layer.accounts import AccountBook
from rapport_outreach.service_layer.compose import Composer
from rapport_outreach.service_layer.handlers import Deps
from rapport_outreach.service_layer.ports import Provider
from rapport_outreach.service_layer.registry import ProviderRegistry
from rapport_outreach.service_layer.resilience import CircuitBreaker, TokenBucket
from rapport_outreach.service_layer.sender import Sender


def build_providers(settings: Settings, pool: HttpPool) -> dict[str, Provider]:
    sink = SinkProvider(settings.sink_dir, settings.from_email, settings.from_name)
    providers: dict[str, Provider] = {"sink": sink, "noop": NoopProvider()}
    if settings.sendgrid_api_key.get_secret_value():
        providers["sendgrid"] = SendGridProvider(
            settings.sendgrid_api_key.get_secret_value(), settings.sendgrid_base_url, settings.from_email,
            settings.from_name, asm_group_id=settings.sendgrid_asm_group_id, reply_domain=settings.reply_domain,
            timeout_s=settings.provider_timeout_s, pool=pool)
    if settings.twilio_account_sid and settings.twilio_auth_token.get_secret_value():
        callback = _status_callback(settings)
        providers["twilio"] = TwilioSmsProvider(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
            settings.twilio_messaging_service_sid, settings.twilio_base_url, callback, settings.provider_timeout_s,
            pool)
    if settings.twilio_account_sid and settings.twilio_auth_token.get_secret_value() and settings.twilio_voice_from:
        providers["twilio_voice"] = TwilioVoiceProvider(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
            settings.twilio_messaging_service_sid, settings.twilio_base_url, None, settings.provider_timeout_s,
            pool, from_number=settings.twilio_voice_from)
    providers["smtp"] = SmtpProvider(settings.smtp_host, settings.smtp_port, settings.smtp_username,
                                     settings.smtp_password.get_secret_value(), settings.smtp_starttls, sink,
                                     settings.provider_timeout_s)
    return providers


def account_factory(settings: Settings, pool: HttpPool, sink: Provider) -> Callable[[ProviderAccount], Provider]:
    """Clients for tenants' own accounts; what an account leaves out comes from the process settings."""
    timeout_s = settings.provider_timeout_s

    def build(account: ProviderAccount) -> Provider:
        s, secret = account.settings, account.secrets
        if account.provider == "sendgrid":
            return SendGridProvider(
                secret["api_key"], s.get("base_url", settings.sendgrid_base_url), s.get("from_email", settings.from_email),
                s.get("from_name", settings.from_name), asm_group_id=s.get("asm_group_id"),
                reply_domain=s.get("reply_domain", settings.reply_domain), timeout_s=timeout_s, pool=pool)
        if account.provider == "twilio":
            return TwilioSmsProvider(s["account_sid"], secret["auth_token"], s["messaging_service_sid"],
                                     s.get("base_url", settings.twilio_base_url), _status_callback(settings),
                                     timeout_s, pool)
        if account.provider == "twilio_voice":
            return TwilioVoiceProvider(s["account_sid"], secret["auth_token"], "", s.get("base_url", settings.twilio_base_url),
                                       None, timeout_s, pool, from_number=s["from_number"])
        if account.provider == "smtp":
            return SmtpProvider(s["host"], s.get("port", 25), s.get("username", ""), secret.get("password", ""),
                                s.get("starttls", False), sink, timeout_s)
        return sink
    return build


def _status_callback(settings: Settings) -> str | None:
    return f"{settings.public_base_url.rstrip('/')}/webhooks/twilio/status" if settings.public_base_url else None


def build_registry(settings: Settings, providers: dict[str, Provider] | None = None) -> ProviderRegistry:
    pool = HttpPool(limit=max(8, settings.sender_concurrency))
    providers = providers or build_providers(settings, pool)
    email = settings.email_provider or ("sendgrid" if "sendgrid" in providers else "sink")
    sms = settings.sms_provider or ("twilio" if "twilio" in providers else "sink")
    defaults = {"email": email, "sms": sms}
    if "twilio_voice" in providers:
        defaults["voice"] = "twilio_voice"
    return ProviderRegistry(providers, defaults, settings.tenant_providers, closers=[pool.close],
                            factory=account_factory(settings, pool, providers["sink"]))


def build_deps(settings: Settings, clock: Clock | None = None, registry: ProviderRegistry | None = None) -> Deps:
    clock = clock or SystemClock()
    composer = Composer(settings.portal_link_secret.get_secret_value(), settings.portal_base_url,
                        settings.portal_link_days, settings.from_name, clock, settings.max_sms_segments)
    return Deps(Outbox(settings.db_schema, TopicNames(settings.topic_prefix)), composer,
                registry or build_registry(settings), clock,
                AccountBook(SecretBox(settings.credentials_key.get_secret_value())))


def warm_up(deps: Deps) -> None:
    """Compile the templates, then take everything alive now out of the garbage collector's scans:
    a full collection over the long-lived heap was the tail of the render latency."""
    deps.composer.warm_up()
    gc.collect()
    gc.freeze()


def build_sender(settings: Settings, sessions, deps: Deps) -> Sender:  # noqa: ANN001 - a session factory
    names = deps.registry.providers
    buckets = {n: TokenBucket(settings.provider_rate_per_s, settings.provider_burst) for n in names}
    breakers = {n: CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s) for n in names}
    policy = RetryPolicy(settings.max_attempts, settings.backoff_base_s, settings.backoff_max_s)
    return Sender(sessions, deps, policy, buckets, breakers, batch_size=settings.sender_batch_size,
                  concurrency=settings.sender_concurrency,
                  limits=lambda: (TokenBucket(settings.provider_rate_per_s, settings.provider_burst),
                                  CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s)))


def create_app(settings: Settings, deps: Deps | None = None) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        app.state.deps = deps or build_deps(settings)
        readiness.add("postgres", lambda: check_postgres(engine))
        readiness.add("kafka", lambda: check_kafka(settings.kafka_bootstrap))
        yield
        await engine.dispose()

    app = FastAPI(title="Rapport outreach", version="1.0.0", lifespan=lifespan)
    install_common(app, settings.service_name, readiness)
    for router in (templates.router, messages.router, accounts.router, keys.router, webhooks.router):
        app.include_router(router)

    @app.exception_handler(OutreachError)
    async def _domain_error(request: Request, exc: OutreachError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
        errors = [{"field": exc.field, "reason": exc.reason}] if exc.field else []
        detail = f"{exc.field}: {exc.reason}" if exc.field else exc.reason
        return JSONResponse(error_body(detail, errors), status_code=status)

    return app


def make_handler(deps: Deps):  # noqa: ANN201 - the consumer's handler
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        """Translate one event into the matching handler; other event types are not ours to act on."""
        if envelope.type == TouchpointDueV1.event_type:
            await handlers.on_touchpoint(session, deps, envelope, envelope.payload())
        elif envelope.type == ContactUpsertedV1.event_type:
            await handlers.on_contact(session, envelope.tenant_id, envelope.payload())
        elif envelope.type == MagicLinkRequestedV1.event_type:
            await handlers.on_magic_link(session, deps, envelope, envelope.payload())
    return handle


_env_deps: list[Deps] = []


async def handle(session: AsyncSession, envelope: Envelope) -> None:
    """The consumer's handler wired from the environment's settings (built on first use, not at import)."""
    if not _env_deps:
        _env_deps.append(build_deps(Settings()))
    await make_handler(_env_deps[0])(session, envelope)


async def run_consumer(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    deps = build_deps(settings)
    warm_up(deps)
    await run_bus_consumer(settings, engine, CONSUMERS["outreach"], make_handler(deps))
