"""Which provider sends a channel for a tenant: the tenant's own account, configuration, the sink by default."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from rapport_outreach.domain.accounts import ProviderAccount
from rapport_outreach.service_layer.ports import Provider

Accounts = dict[str, ProviderAccount]


@dataclass
class ProviderRegistry:
    providers: dict[str, Provider]
    defaults: dict[str, str]  # channel -> provider name
    per_tenant: dict[str, dict[str, str]] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # pooled connections
    factory: Callable[[ProviderAccount], Provider] | None = None  # a provider for a tenant's account
    _built: dict[tuple[str, datetime | None], Provider] = field(default_factory=dict)

    def choose(self, tenant_id: UUID, channel: str, accounts: Accounts | None = None) -> str:
        account = (accounts or {}).get(channel)
        if account is not None and self.factory is not None:
            return account.provider
        name = self.per_tenant.get(str(tenant_id), {}).get(channel) or self.defaults.get(channel, "sink")
        if name not in self.providers:
            raise LookupError(f"provider {name!r} for {channel} is not configured")
        return name

    def resolve(self, name: str, channel: str, accounts: Accounts | None = None) -> tuple[str, Provider]:
        """The client that sends a queued message, and the key of its rate limit and breaker:
        the tenant's own account of that provider when there is one, else the process's."""
        account = next((a for a in (accounts or {}).values() if a.provider == name), None)
        if account is not None and self.factory is not None:
            version = (account.instance_key, account.updated_at)
            if version not in self._built:  # a changed key gets a new client; nothing reuses the old one
                try:
                    self._built[version] = self.factory(account)
                except (KeyError, ValueError, TypeError):  # an account saved by an older, laxer version
                    return self.resolve(name, channel, None)
            return account.instance_key, self._built[version]
        if name not in self.providers:  # the tenant's account was removed since queueing
            name = self.defaults.get(channel, "sink")
        return name, self.providers[name]

    def supports(self, channel: str, accounts: Accounts | None = None) -> bool:
        """Whether some provider sends this channel (voice calls are optional)."""
        if channel in (accounts or {}) and self.factory is not None:
            return True
        return channel in self.defaults and self.defaults[channel] in self.providers

    def get(self, name: str) -> Provider:
        return self.providers[name]

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
