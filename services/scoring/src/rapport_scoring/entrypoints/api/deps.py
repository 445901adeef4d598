"""Request plumbing: the session per request and the tenant/admin headers."""
from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.web import ApiError


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as s:
        yield s


def tenant(request: Request, x_tenant_id: str | None = Header(None), x_admin_token: str | None = Header(None)) -> UUID:
    """Analytics are for the operator: an admin token plus the tenant being looked at."""
    expected = request.app.state.settings.admin_token
    if not x_admin_token or not hmac.compare_digest(x_admin_token, expected):
        raise ApiError(401, "missing or wrong admin token", field="X-Admin-Token")
    if not x_tenant_id:
        raise ApiError(400, "required", field="X-Tenant-Id")
    try:
        return UUID(x_tenant_id)
    except ValueError:
        raise ApiError(400, f"{x_tenant_id!r} is not a UUID", field="X-Tenant-Id") from None
