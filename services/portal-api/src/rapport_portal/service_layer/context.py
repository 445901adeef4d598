"""What the service layer needs, wired once by bootstrap (so tests can pass fakes)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.base import EventPayload
from rapport_shared.contracts.envelope import make_event
from rapport_shared.time import Clock

from rapport_portal.adapters import portal_state
from rapport_portal.adapters.hot_reads import HotReads
from rapport_portal.domain.checkout import CheckoutRequest, CheckoutSession
from rapport_portal.domain.plans import PlanLimits
from rapport_portal.domain.ratelimit import RateLimit
from rapport_portal.service_layer.response_cache import ResponseCache

SOURCE = "portal-api"


@dataclass(frozen=True)
class Principal:
    """Who is acting: one contact of one customer of one tenant, through one session."""

    tenant_id: UUID
    customer_id: UUID
    contact_id: UUID
    session_hash: str
    csrf_token: str
    ip: str | None = None
    read_version: int = 0  # of the customer's invoice list, read with the session


class CheckoutGateway(Protocol):
    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...


class FileStore(Protocol):
    def save(self, content: bytes, extension: str) -> str: ...
    def read(self, storage_name: str) -> bytes: ...


@dataclass
class Portal:
    sessions: async_sessionmaker[AsyncSession]
    # Read-only views run in autocommit: no BEGIN/ROLLBACK round trips on the hot read paths.
    reads: async_sessionmaker[AsyncSession]
    outbox: Outbox
    clock: Clock
    link_secret: str
    base_url: str
    link_ttl_minutes: int
    session_ttl_minutes: int
    default_plan_limits: PlanLimits
    upload_max_bytes: int
    checkout: CheckoutGateway
    files: FileStore
    login_per_ip: RateLimit
    login_per_email: RateLimit
    # Sessions and list versions are read from Postgres on every request (no per-worker copy to
    # go stale): a sign-out in one worker holds in all of them at once.
    hot: HotReads
    list_cache: ResponseCache = field(default_factory=ResponseCache)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction: state, audit rows and outbox rows commit together or not at all."""
        async with self.sessions() as session, session.begin():
            yield session

    async def emit(self, session: AsyncSession, who: Principal, payload: EventPayload, subject: str | None = None) -> None:
        envelope = make_event(payload, source=SOURCE, tenant_id=who.tenant_id, customer_key=who.customer_id,
                              subject=subject, time=self.clock.now())
        await self.outbox.add(session, envelope)

    async def audit(self, session: AsyncSession, who: Principal, action: str, **detail: Any) -> None:
        await portal_state.audit(session, dict(
            tenant_id=who.tenant_id, customer_id=who.customer_id, contact_id=who.contact_id,
            action=action, detail=detail, ip=who.ip, at=self.clock.now(),
        ))
