"""Operator endpoints (``X-Admin-Token``): mint a sign-in link, set plan limits, read the audit log."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query

from rapport_portal.entrypoints.api import deps, render
from rapport_portal.entrypoints.api.schemas import AdminLinkBody, PlanLimitsBody
from rapport_portal.service_layer import admin, auth
from rapport_portal.service_layer.context import Portal

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(deps.require_admin)])
P = Depends(deps.get_portal)


@router.post("/magic-links", status_code=201)
async def mint(body: AdminLinkBody, portal: Portal = P) -> dict:
    token, url, expires_at = await auth.admin_mint_link(portal, body.tenant_id, body.contact_id)
    return {"url": url, "token": token, "expires_at": expires_at.isoformat()}


@router.put("/tenants/{tenant_id}/plan-limits")
async def plan_limits(tenant_id: UUID, body: PlanLimitsBody, portal: Portal = P) -> dict:
    await admin.set_plan_limits(portal, tenant_id, body.max_instalments, body.max_days)
    return {"tenant_id": str(tenant_id), "max_instalments": body.max_instalments, "max_days": body.max_days}


@router.get("/audit")
async def audit(tenant_id: UUID, customer_id: UUID, limit: int = Query(100, ge=1, le=1000), portal: Portal = P) -> dict:
    return {"items": [render.audit(r) for r in await admin.audit(portal, tenant_id, customer_id, limit)]}
