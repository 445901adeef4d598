"""``/v1/policies``: versioned dunning policies (every version kept; changes re-plan at once)."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from rapport_scheduler.adapters import policies as store
from rapport_scheduler.domain.catalogue import CHANNELS, TEMPLATE_KEYS, TONES
from rapport_scheduler.domain.policy import DEFAULT_POLICY, Policy, PolicySpec
from rapport_scheduler.entrypoints.api.deps import ctx
from rapport_scheduler.service_layer import policy_service
from rapport_scheduler.service_layer.context import Ctx

router = APIRouter(prefix="/v1/policies", tags=["policies"])


class PolicyOut(BaseModel):
    policy_id: UUID
    version: int
    active: bool = True
    created_at: datetime | None = None
    created_by: str | None = None
    is_default: bool = False
    spec: PolicySpec


def _out(policy: Policy, created_at=None, active=True, by=None) -> PolicyOut:
    return PolicyOut(policy_id=policy.policy_id, version=policy.version, active=active, created_at=created_at,
                     created_by=by, is_default=policy.policy_id == DEFAULT_POLICY.policy_id, spec=policy.spec)


@router.get("")
async def list_policies(c: Ctx = Depends(ctx)) -> dict:
    current = await store.current(c.session, c.tenant_id)
    return {"policies": [_out(p) for p in current], "default": _out(DEFAULT_POLICY, by="system"),
            "catalogue": {"template_keys": sorted(TEMPLATE_KEYS), "channels": sorted(CHANNELS), "tones": list(TONES)}}


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_policy(spec: PolicySpec, c: Ctx = Depends(ctx)) -> PolicyOut:
    return _out(await policy_service.create(c.session, c.tenant_id, spec, c.now, c.author), c.now, by=c.author)


@router.get("/{policy_id}")
async def get_policy(policy_id: UUID, c: Ctx = Depends(ctx)) -> PolicyOut:
    policy, created, active, by = (await policy_service.get(c.session, c.tenant_id, policy_id))[-1]
    return _out(policy, created, active, by)


@router.get("/{policy_id}/versions")
async def policy_versions(policy_id: UUID, c: Ctx = Depends(ctx)) -> list[PolicyOut]:
    return [_out(*v) for v in await policy_service.get(c.session, c.tenant_id, policy_id)]


@router.put("/{policy_id}")
async def update_policy(policy_id: UUID, spec: PolicySpec, c: Ctx = Depends(ctx)) -> PolicyOut:
    return _out(await policy_service.update(c.session, c.tenant_id, policy_id, spec, c.now, c.author), c.now, by=c.author)


@router.delete("/{policy_id}")
async def retire_policy(policy_id: UUID, c: Ctx = Depends(ctx)) -> PolicyOut:
    return _out(await policy_service.retire(c.session, c.tenant_id, policy_id, c.now, c.author), c.now, False, c.author)
