"""Admin API for a tenant's own provider accounts. Secrets go in and are never shown again."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from rapport_outreach.domain.accounts import PROVIDERS_BY_CHANNEL, ProviderAccount
from rapport_outreach.entrypoints.api.common import admin
from rapport_outreach.service_layer.accounts import public

router = APIRouter(prefix="/v1/provider-accounts", tags=["provider accounts"])


class AccountIn(BaseModel):
    provider: str = Field(description="email: sendgrid|smtp|sink; sms: twilio|sink; voice: twilio_voice")
    settings: dict[str, Any] = Field(default_factory=dict, description="e.g. from_email, account_sid, host")
    secrets: dict[str, str] | None = Field(
        None, description="api_key, auth_token or password; omit to keep the stored ones of the same provider")


@router.get("")
async def list_accounts(request: Request, tenant: UUID = Depends(admin)) -> dict:
    app = request.app.state
    async with app.sessions() as session:
        accounts = (await app.deps.accounts.refresh(session, [tenant]))[tenant]
    return {"accounts": [public(a) for a in sorted(accounts.values(), key=lambda a: a.channel)],
            "defaults": app.deps.registry.defaults, "providers_by_channel": PROVIDERS_BY_CHANNEL}


@router.put("/{channel}")
async def save_account(channel: str, body: AccountIn, request: Request, tenant: UUID = Depends(admin)) -> dict:
    app = request.app.state
    async with app.sessions() as session, session.begin():
        secrets = body.secrets
        if secrets is None:
            stored = (await app.deps.accounts.refresh(session, [tenant]))[tenant].get(channel)
            secrets = stored.secrets if stored and stored.provider == body.provider else {}
        account = ProviderAccount(tenant, channel, body.provider, body.settings, secrets)
        saved = await app.deps.accounts.save(session, account, app.deps.clock.now())
    return public(saved)


@router.delete("/{channel}", status_code=204)
async def delete_account(channel: str, request: Request, tenant: UUID = Depends(admin)) -> None:
    app = request.app.state
    async with app.sessions() as session, session.begin():
        await app.deps.accounts.remove(session, tenant, channel)
