"""``/v1/settings``: a tenant's own scheduler settings (quiet hours; a policy's own quiet hours win)."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from rapport_scheduler.domain.policy import QuietHours
from rapport_scheduler.entrypoints.api.deps import ctx
from rapport_scheduler.service_layer import settings_service
from rapport_scheduler.service_layer.context import Ctx

router = APIRouter(prefix="/v1/settings", tags=["settings"])


@router.get("/quiet-hours")
async def get_quiet_hours(c: Ctx = Depends(ctx)) -> dict:
    quiet, source = await settings_service.quiet_hours(c.session, c.tenant_id)
    return {"quiet_hours": quiet, "source": source}


@router.put("/quiet-hours")
async def put_quiet_hours(body: QuietHours, c: Ctx = Depends(ctx)) -> dict:
    await settings_service.set_quiet_hours(c.session, c.tenant_id, body, c.now, c.author)
    return {"quiet_hours": body, "source": "tenant"}
