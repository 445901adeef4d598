"""Tenants and API keys."""
from __future__ import annotations

import hmac
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rapport_shared.web import ApiError

from rapport_ingest.domain.errors import LedgerError
from rapport_ingest.service_layer import tenancy
from rapport_ingest.service_layer.tenancy import Caller
from rapport_ingest.entrypoints.api.deps import api_error, scoped

router = APIRouter(prefix="/v1", tags=["tenants and keys"])


class NewTenant(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scope: Literal["read", "write", "admin"]


@router.post("/admin/tenants", status_code=201)
async def create_tenant(body: NewTenant, request: Request, x_admin_token: str | None = Header(None)):
    expected = request.app.state.settings.admin_token
    if not x_admin_token or not hmac.compare_digest(x_admin_token, expected):
        raise ApiError(401, "a valid X-Admin-Token is required", field="X-Admin-Token")
    async with request.app.state.sessions() as session, session.begin():
        tenant_id, api_key = await tenancy.create_tenant(session, body.name)
    return {"tenant_id": str(tenant_id), "api_key": api_key}


@router.post("/api-keys", status_code=201)
async def create_key(body: NewKey, request: Request, who: Caller = Depends(scoped("admin"))):
    async with request.app.state.sessions() as session, session.begin():
        key_id, api_key = await tenancy.create_key(session, who.tenant_id, body.name, body.scope)
    return JSONResponse({"key_id": str(key_id), "api_key": api_key, "scope": body.scope}, status_code=201)


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_key(key_id: UUID, request: Request, who: Caller = Depends(scoped("admin"))):
    try:
        async with request.app.state.sessions() as session, session.begin():
            await tenancy.revoke_key(session, who, key_id, request.app.state.clock)
    except LedgerError as exc:
        raise api_error(exc) from None
    request.app.state.key_cache.forget(key_id)
    return Response(status_code=204)
