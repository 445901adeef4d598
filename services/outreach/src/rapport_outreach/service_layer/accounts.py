"""Tenants' own provider accounts: saved through the admin API, read by the consumer and the sender.

The consumer reads them through a short cache (one query per tenant every few seconds, not per
message); the sender reads them fresh for every batch it claims, so a changed key is used at once.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_outreach.adapters import account_repository
from rapport_outreach.adapters.secret_box import SecretBox
from rapport_outreach.domain.accounts import ProviderAccount, validate
from rapport_outreach.domain.errors import NotFound

Accounts = dict[str, ProviderAccount]  # channel -> account


class AccountBook:
    def __init__(self, box: SecretBox, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._box, self._ttl_s, self._clock = box, ttl_s, clock
        self._cache: dict[UUID, tuple[float, Accounts]] = {}

    async def of(self, session: AsyncSession, tenant_id: UUID) -> Accounts:
        cached = self._cache.get(tenant_id)
        if cached and self._clock() - cached[0] < self._ttl_s:
            return cached[1]
        return (await self.refresh(session, [tenant_id]))[tenant_id]

    async def refresh(self, session: AsyncSession, tenant_ids: list[UUID]) -> dict[UUID, Accounts]:
        found: dict[UUID, Accounts] = {t: {} for t in tenant_ids}
        if tenant_ids:
            for account in await account_repository.accounts_of(session, self._box, tenant_ids):
                found[account.tenant_id][account.channel] = account
        now = self._clock()
        self._cache.update({t: (now, accounts) for t, accounts in found.items()})
        return found

    async def save(self, session: AsyncSession, account: ProviderAccount, now: datetime) -> ProviderAccount:
        validate(account.channel, account.provider, account.settings, account.secrets)
        self._cache.pop(account.tenant_id, None)
        return await account_repository.save(session, self._box, account, now)

    async def remove(self, session: AsyncSession, tenant_id: UUID, channel: str) -> None:
        self._cache.pop(tenant_id, None)
        if not await account_repository.delete(session, tenant_id, channel):
            raise NotFound(f"no {channel} provider account for this tenant", "channel")


    async def where(self, session: AsyncSession, providers: tuple[str, ...], setting: str,
                    value: str) -> list[ProviderAccount]:
        return await account_repository.accounts_where(session, self._box, providers, setting, value)

    async def tenants_with(self, session: AsyncSession, channel: str) -> list[UUID]:
        return await account_repository.tenants_with(session, channel)


def public(account: ProviderAccount) -> dict:
    """What the API may show: the secrets' names, never their values."""
    return {"channel": account.channel, "provider": account.provider, "settings": account.settings,
            "secrets_set": sorted(account.secrets),
            "updated_at": account.updated_at.isoformat() if account.updated_at else None}
