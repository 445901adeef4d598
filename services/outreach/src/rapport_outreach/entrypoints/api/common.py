"""What every outreach route needs: the tenant of the caller and a transaction."""
from __future__ import annotations

from uuid import UUID

from fastapi import Header, Request

from rapport_shared.web import ApiError


def tenant_id(x_tenant_id: str | None = Header(None)) -> UUID:
    if not x_tenant_id:
        raise ApiError(401, "header required: the caller's tenant id", field="X-Tenant-Id")
    try:
        return UUID(x_tenant_id)
    except ValueError:
        raise ApiError(400, f"{x_tenant_id!r} is not a UUID", field="X-Tenant-Id") from None


def state(request: Request):  # noqa: ANN201 - the app state with sessions, deps, settings
    return request.app.state
