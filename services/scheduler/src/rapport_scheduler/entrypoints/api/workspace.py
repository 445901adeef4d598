"""Collector workspace routes: worklist, call outcomes, notes, tags, timeline, assignment, overrides."""
from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from rapport_scheduler.adapters import policies as policy_store, worklist as store
from rapport_scheduler.entrypoints.api.deps import ctx
from rapport_scheduler.service_layer import workspace
from rapport_scheduler.service_layer.context import Ctx

router = APIRouter(prefix="/v1", tags=["workspace"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CloseTask(_In):
    outcome: str = Field(min_length=1, max_length=100)
    note: str | None = Field(None, max_length=4000)


class CallOutcome(_In):
    code: str
    note: str | None = Field(None, max_length=4000)
    invoice_ids: list[UUID] = []
    promised_date: date | None = None
    contact_id: UUID | None = None


class Note(_In):
    text: str = Field(min_length=1, max_length=4000)


class Tags(_In):
    tags: list[str]


class Assignment(_In):
    collector: str = Field(min_length=1, max_length=200)
    collector_email: str | None = None


class Rule(_In):
    collector: str = Field(min_length=1, max_length=200)
    collector_email: str | None = None
    region: str | None = None
    size: str | None = None
    industry: str | None = None
    priority: int = 0


class PlanDecision(_In):
    approve: bool
    note: str | None = Field(None, max_length=4000)


class Override(_In):
    policy_id: UUID | None = None
    hold: bool = False


@router.get("/worklist")
async def worklist(assignee: str | None = None, kind: str | None = None, c: Ctx = Depends(ctx)) -> dict:
    return {"tasks": await workspace.ranked_worklist(c, assignee, kind)}


@router.post("/tasks/{task_id}/close")
async def close_task(task_id: UUID, body: CloseTask, request: Request, c: Ctx = Depends(ctx)) -> dict:
    await workspace.close_task(c, request.app.state.planner, task_id, body.outcome, body.note)
    return {"task_id": task_id, "status": "closed"}


@router.post("/customers/{customer_id}/call-outcomes")
async def call_outcome(customer_id: UUID, body: CallOutcome, request: Request, c: Ctx = Depends(ctx)) -> dict:
    await workspace.call_outcome(c, request.app.state.planner, customer_id, body.code, body.note, body.invoice_ids,
                                 body.promised_date, body.contact_id)
    return {"customer_id": customer_id, "code": body.code}


@router.post("/customers/{customer_id}/notes", status_code=201)
async def add_note(customer_id: UUID, body: Note, c: Ctx = Depends(ctx)) -> dict:
    await workspace.add_note(c, customer_id, body.text)
    return {"customer_id": customer_id}


@router.get("/customers/{customer_id}/timeline")
async def timeline(customer_id: UUID, c: Ctx = Depends(ctx)) -> dict:
    rows = await store.timeline(c.session, c.tenant_id, customer_id)
    return {"customer_id": customer_id, "entries": [
        {"at": r.at, "kind": r.kind, "summary": r.summary, "ref_id": r.ref_id, "author": r.author} for r in rows]}


@router.put("/customers/{customer_id}/collector")
async def reassign(customer_id: UUID, body: Assignment, c: Ctx = Depends(ctx)) -> dict:
    await workspace.reassign(c, customer_id, body.collector, body.collector_email)
    return {"customer_id": customer_id, "collector": body.collector}


@router.put("/customers/{customer_id}/override")
async def override(customer_id: UUID, body: Override, request: Request, c: Ctx = Depends(ctx)) -> dict:
    known = {p.policy_id for p in await policy_store.current(c.session, c.tenant_id)}
    await workspace.set_override(c, request.app.state.planner, customer_id, body.policy_id, body.hold, known)
    return {"customer_id": customer_id, "policy_id": body.policy_id, "hold": body.hold}


@router.put("/invoices/{invoice_id}/tags")
async def set_tags(invoice_id: UUID, body: Tags, c: Ctx = Depends(ctx)) -> dict:
    await workspace.set_tags(c, invoice_id, body.tags)
    return {"invoice_id": invoice_id, "tags": sorted(set(body.tags))}


@router.get("/invoices")
async def invoices(tag: str | None = None, customer_id: UUID | None = None, c: Ctx = Depends(ctx)) -> dict:
    rows = await store.list_invoices(c.session, c.tenant_id, tag, customer_id)
    return {"invoices": [{"invoice_id": r.invoice_id, "customer_id": r.customer_id, "number": r.number,
                          "due_date": r.due_date, "currency": r.currency, "open_amount": format(r.open_amount, "f"),
                          "status": r.status, "stage": r.stage, "disputed": r.disputed,
                          "promise_until": r.promise_until, "tags": r.tags, "policy_id": r.policy_id,
                          "policy_version": r.policy_version} for r in rows]}


@router.get("/touchpoints")
async def touchpoints(customer_id: UUID | None = Query(None), c: Ctx = Depends(ctx)) -> dict:
    rows = await store.touchpoints(c.session, c.tenant_id, customer_id)
    return {"touchpoints": [{"touchpoint_id": r.touchpoint_id, "customer_id": r.customer_id, "send_day": r.send_day,
                             "stage": r.stage, "channel": r.channel, "template_key": r.template_key, "tone": r.tone,
                             "policy_id": r.policy_id, "policy_version": r.policy_version,
                             "invoice_ids": r.invoice_ids, "currency": r.currency,
                             "total_open": format(r.total_open, "f")} for r in rows]}


@router.post("/assignment-rules", status_code=201)
async def add_rule(body: Rule, c: Ctx = Depends(ctx)) -> dict:
    rule_id = uuid4()
    await store.add_rule(c.session, {"rule_id": rule_id, "tenant_id": c.tenant_id, **body.model_dump()})
    return {"rule_id": rule_id, **body.model_dump()}


@router.get("/assignment-rules")
async def list_rules(c: Ctx = Depends(ctx)) -> dict:
    return {"rules": [{"rule_id": r.rule_id, "collector": r.collector, "collector_email": r.collector_email,
                       "region": r.region, "size": r.size, "industry": r.industry, "priority": r.priority}
                      for r in await store.rules(c.session, c.tenant_id)]}


@router.post("/plans/{plan_id}/decision")
async def decide_plan(plan_id: UUID, body: PlanDecision, request: Request, c: Ctx = Depends(ctx)) -> dict:
    status = await workspace.approve_plan(c, request.app.state.planner, plan_id, body.approve, body.note)
    return {"plan_id": plan_id, "status": status}
