"""Operator routes (``X-Admin-Token``): issue, list and revoke tenants' API keys for the outreach API."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from rapport_outreach.adapters import api_key_repository
from rapport_outreach.domain import api_keys
from rapport_outreach.domain.errors import NotFound
from rapport_outreach.entrypoints.api.common import require_admin

router = APIRouter(prefix="/v1/admin/api-keys", tags=["admin"], dependencies=[Depends(require_admin)])


class NewKey(BaseModel):
    tenant_id: uuid.UUID
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    scope: api_keys.Scope = Field("read", description="read | write (templates, settlement) | admin (provider accounts)")


def _out(row) -> dict:  # noqa: ANN001 - an api_keys Row
    return {"key_id": str(row.id), "tenant_id": str(row.tenant_id), "name": row.name, "scope": row.scope,
            "prefix": api_keys.KEY_PREFIX + row.prefix, "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


@router.post("", status_code=201)
async def create_key(body: NewKey, request: Request) -> JSONResponse:
    """The key is in this answer only; the service keeps its SHA-256."""
    app = request.app.state
    issued, key_id = api_keys.issue(), uuid.uuid4()
    async with app.sessions() as session, session.begin():
        await api_key_repository.add(session, key_id, body.tenant_id, body.name, body.scope, issued.prefix,
                                     issued.secret_hash, app.deps.clock.now())
    return JSONResponse({"key_id": str(key_id), "tenant_id": str(body.tenant_id), "scope": body.scope,
                         "api_key": issued.plaintext}, status_code=201)


@router.get("")
async def list_keys(request: Request, tenant_id: uuid.UUID = Query(...)) -> dict:
    async with request.app.state.sessions() as session:
        rows = await api_key_repository.of_tenant(session, tenant_id)
    return {"keys": [_out(r) for r in rows]}


@router.delete("/{key_id}", status_code=204)
async def revoke_key(key_id: uuid.UUID, request: Request) -> None:
    app = request.app.state
    async with app.sessions() as session, session.begin():
        if not await api_key_repository.revoke(session, key_id, app.deps.clock.now()):
            raise NotFound(f"no active key {key_id}", "key_id")
