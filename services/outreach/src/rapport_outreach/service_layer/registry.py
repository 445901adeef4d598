"""Which provider sends a channel for a tenant: configuration first, the local sink by default."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

from rapport_outreach.service_layer.ports import Provider


@dataclass
class ProviderRegistry:
    providers: dict[str, Provider]
    defaults: dict[str, str]  # channel -> provider name
    per_tenant: dict[str, dict[str, str]] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # pooled connections

    def choose(self, tenant_id: UUID, channel: str) -> str:
        name = self.per_tenant.get(str(tenant_id), {}).get(channel) or self.defaults.get(channel, "sink")
        if name not in self.providers:
            raise LookupError(f"provider {name!r} for {channel} is not configured")
        return name

    def supports(self, channel: str) -> bool:
        """Whether some provider sends this channel (voice calls are optional)."""
        return channel in self.defaults and self.defaults[channel] in self.providers

    def get(self, name: str) -> Provider:
        return self.providers[name]

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
