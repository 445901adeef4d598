"""What every outreach route needs: an authenticated caller, scoped to one tenant.

Two credentials are accepted:
- ``Authorization: Bearer rok_...``: a tenant's API key (``POST /v1/admin/api-keys``); it names its
  tenant, so ``X-Tenant-Id`` is optional and, when sent, must be that tenant (else 403);
- ``X-Admin-Token`` (the operator's token, compared in constant time) with ``X-Tenant-Id``.
A missing or wrong credential is a 401; a key whose scope is too small for the route is a 403.
"""
from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import Depends, Header, Request

from rapport_shared.web import ApiError

from rapport_outreach.adapters import api_key_repository
from rapport_outreach.domain import api_keys
from rapport_outreach.domain.api_keys import Caller


def _tenant_header(x_tenant_id: str | None) -> UUID | None:
    if not x_tenant_id:
        return None
    try:
        return UUID(x_tenant_id)
    except ValueError:
        raise ApiError(400, f"{x_tenant_id!r} is not a UUID", field="X-Tenant-Id") from None


def admin_token_ok(request: Request, presented: str | None) -> bool:
    expected = request.app.state.settings.admin_token.get_secret_value()
    return bool(presented) and bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


def require_admin(request: Request, x_admin_token: str | None = Header(None)) -> str:
    """The operator's routes (issuing and revoking tenants' keys)."""
    if not admin_token_ok(request, x_admin_token):
        raise ApiError(401, "a valid X-Admin-Token is required", field="X-Admin-Token")
    return "operator"


async def caller(request: Request, authorization: str | None = Header(None),
                 x_admin_token: str | None = Header(None), x_tenant_id: str | None = Header(None)) -> Caller:
    claimed = _tenant_header(x_tenant_id)
    if authorization:
        scheme, _, token = authorization.partition(" ")
        parts = api_keys.split(token.strip()) if scheme.lower() == "bearer" else None
        row = None
        if parts is not None:
            async with request.app.state.sessions() as session:
                row = await api_key_repository.by_prefix(session, parts[0])
        # The hash is compared even for an unknown prefix, so timing does not tell which prefixes exist.
        known = api_keys.matches(parts[1] if parts else "", row.secret_hash if row else "0" * 64)
        if row is None or not known or row.revoked_at is not None:
            raise ApiError(401, "unknown, malformed or revoked API key", field="Authorization")
        if claimed is not None and claimed != row.tenant_id:
            raise ApiError(403, "this API key belongs to another tenant", field="X-Tenant-Id")
        return Caller(row.tenant_id, row.scope, f"key:{row.prefix}")
    if x_admin_token is not None:
        if not admin_token_ok(request, x_admin_token):
            raise ApiError(401, "wrong admin token", field="X-Admin-Token")
        if claimed is None:
            raise ApiError(400, "header required with the admin token: the tenant acted for", field="X-Tenant-Id")
        return Caller(claimed, "admin", "operator")
    raise ApiError(401, "credentials required: Authorization: Bearer <API key> (or X-Admin-Token with X-Tenant-Id)",
                   field="Authorization")


def scoped(scope: api_keys.Scope) -> Callable[..., Awaitable[UUID]]:
    """A dependency giving the caller's tenant when its credential allows ``scope``."""
    async def dependency(who: Caller = Depends(caller)) -> UUID:
        if not api_keys.allows(who.scope, scope):
            raise ApiError(403, f"this API key's scope {who.scope!r} does not allow {scope!r}", field="Authorization")
        return who.tenant_id
    return dependency


reader = scoped("read")
writer = scoped("write")
admin = scoped("admin")


def state(request: Request):  # noqa: ANN201 - the app state with sessions, deps, settings
    return request.app.state
