"""SQL for tenants' provider accounts (secrets sealed on the way in, opened on the way out)."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.observability import get_logger

from rapport_outreach.adapters.orm import provider_accounts
from rapport_outreach.adapters.secret_box import SecretBox
from rapport_outreach.domain.accounts import ProviderAccount

log = get_logger(__name__)


def _account(row, box: SecretBox) -> ProviderAccount | None:  # noqa: ANN001 - a Row
    secrets = box.open(row.secrets)
    if secrets is None:
        # Sealed under an earlier CREDENTIALS_KEY: the tenant falls back to the process defaults
        # until an admin saves the account again.
        log.warning("provider account secrets cannot be opened with the current key",
                    tenant_id=str(row.tenant_id), channel=row.channel)
        return None
    return ProviderAccount(row.tenant_id, row.channel, row.provider, dict(row.settings), secrets, row.updated_at)


async def accounts_of(session: AsyncSession, box: SecretBox, tenant_ids: list[UUID]) -> list[ProviderAccount]:
    statement = select(provider_accounts).where(provider_accounts.c.tenant_id.in_(tenant_ids))
    return [a for r in await session.execute(statement) if (a := _account(r, box)) is not None]


async def accounts_where(session: AsyncSession, box: SecretBox, providers: tuple[str, ...], setting: str,
                         value: str) -> list[ProviderAccount]:
    """Accounts of these providers whose setting has this value (a Twilio sid, a reply domain)."""
    statement = select(provider_accounts).where(provider_accounts.c.provider.in_(providers),
                                                provider_accounts.c.settings[setting].as_string() == value)
    return [a for r in await session.execute(statement) if (a := _account(r, box)) is not None]


async def tenants_with(session: AsyncSession, channel: str) -> list[UUID]:
    statement = select(provider_accounts.c.tenant_id).where(provider_accounts.c.channel == channel)
    return list((await session.execute(statement)).scalars())


async def save(session: AsyncSession, box: SecretBox, account: ProviderAccount, now: datetime) -> ProviderAccount:
    row = {"tenant_id": account.tenant_id, "channel": account.channel, "provider": account.provider,
           "settings": account.settings, "secrets": box.seal(account.secrets), "updated_at": now}
    statement = insert(provider_accounts).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=[provider_accounts.c.tenant_id, provider_accounts.c.channel],
        set_={k: statement.excluded[k] for k in ("provider", "settings", "secrets", "updated_at")})
    stored = (await session.execute(statement.returning(*provider_accounts.c))).one()
    return ProviderAccount(stored.tenant_id, stored.channel, stored.provider, dict(stored.settings),
                           dict(account.secrets), stored.updated_at)


async def delete(session: AsyncSession, tenant_id: UUID, channel: str) -> bool:
    statement = (provider_accounts.delete()
                 .where(provider_accounts.c.tenant_id == tenant_id, provider_accounts.c.channel == channel)
                 .returning(provider_accounts.c.channel))
    return (await session.execute(statement)).first() is not None
