"""What every scheduler route needs: the admin token, the tenant, one transaction, the scheduler's now."""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import Depends, Header, Request

from rapport_shared.web import ApiError

from rapport_scheduler.adapters import clock as db_clock
from rapport_scheduler.service_layer.context import Ctx


def require_admin(request: Request, x_admin_token: str | None = Header(None)) -> str:
    expected = request.app.state.settings.admin_token
    if not x_admin_token or not secrets.compare_digest(x_admin_token, expected):
        raise ApiError(401, "missing or wrong admin token", field="X-Admin-Token")
    return "admin"


def tenant(x_tenant_id: str | None = Header(None)) -> UUID:
    if not x_tenant_id:
        raise ApiError(400, "header is required", field="X-Tenant-Id")
    try:
        return UUID(x_tenant_id)
    except ValueError:
        raise ApiError(422, f"'{x_tenant_id}' is not a UUID", field="X-Tenant-Id") from None


async def ctx(request: Request, tenant_id: UUID = Depends(tenant), author: str = Depends(require_admin)) -> AsyncIterator[Ctx]:
    """One transaction per request: it commits only if the route returns without error."""
    state = request.app.state
    async with state.sessions() as session, session.begin():
        now = await db_clock.now(session, state.base_clock)
        yield Ctx(session, state.outbox, tenant_id, now, None, request.headers.get("x-actor", author))
