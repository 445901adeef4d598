"""The latest model per tenant, held in memory and refreshed when the registry moves on."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scoring.adapters import model_registry, repository
from rapport_scoring.domain.facts import TouchFact
from rapport_scoring.domain.model import PaymentModel

RULES_VERSION = "rules-v1"


@dataclass
class _Entry:
    model_id: int | None
    version: str
    model: PaymentModel | None
    checked_at: float


@dataclass
class ModelCache:
    """Checks the registry at most every ``ttl_s`` seconds per tenant (rescoring stays cheap)."""

    ttl_s: float = 30.0
    _entries: dict[UUID, _Entry] = field(default_factory=dict)
    _touches: dict[UUID, tuple[float, list[TouchFact]]] = field(default_factory=dict)

    async def get(self, session: AsyncSession, tenant_id: UUID) -> tuple[str, PaymentModel | None]:
        entry = self._entries.get(tenant_id)
        if entry is not None and time.monotonic() - entry.checked_at < self.ttl_s:
            return entry.version, entry.model
        latest = await model_registry.latest_id(session, tenant_id)
        if entry is None or entry.model_id != latest:
            version, model = await model_registry.load(session, latest) if latest else (RULES_VERSION, None)
            entry = _Entry(latest, version, model, 0.0)
        entry.checked_at = time.monotonic()
        self._entries[tenant_id] = entry
        return entry.version, entry.model

    async def tenant_touches(self, session: AsyncSession, tenant_id: UUID) -> list[TouchFact]:
        """The tenant's recent touches, the prior for every customer's channel choice."""
        cached = self._touches.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        facts = await repository.touch_facts(session, tenant_id, None)
        self._touches[tenant_id] = (time.monotonic(), facts)
        return facts

    def forget(self) -> None:
        self._entries.clear()
        self._touches.clear()
