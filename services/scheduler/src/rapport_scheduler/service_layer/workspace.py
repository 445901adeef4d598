"""The collector workspace: ranked worklist, call outcomes that feed the plan, notes, tags, assignment."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from rapport_shared.contracts.task import TaskClosedV1

from rapport_scheduler.adapters import readmodel, worklist as store
from rapport_scheduler.domain.catalogue import CALL_OUTCOMES, INVOICE_TAGS
from rapport_scheduler.domain.errors import InvalidRequest, NotFound
from rapport_scheduler.domain.worklist import expected_value
from rapport_scheduler.service_layer import messages
from rapport_scheduler.service_layer.context import Ctx
from rapport_scheduler.service_layer.planning import Planner
from rapport_scheduler.service_layer.request_handlers import _grace_days


async def ranked_worklist(ctx: Ctx, assignee: str | None, kind: str | None) -> list[dict]:
    rows = await store.open_tasks(ctx.session, ctx.tenant_id, assignee, kind)
    balances = await store.balances(ctx.session, ctx.tenant_id, list({r.customer_id for r in rows}), ctx.now.date())
    items = []
    for r in rows:
        balance, age = balances.get(r.customer_id, (Decimal(0), 0))
        ranking = expected_value(balance, r.risk_band, age, r.broken_promises)
        items.append({"task_id": r.task_id, "customer_id": r.customer_id, "customer_name": r.customer_name,
                      "kind": r.kind, "reason": r.reason, "invoice_ids": r.invoice_ids, "assignee": r.assignee,
                      "created_at": r.created_at, "priority_score": ranking.score, "priority_reason": ranking.reason,
                      "subject_kind": r.subject_kind, "subject_id": r.subject_id})
    return sorted(items, key=lambda i: (-i["priority_score"], i["created_at"]))


async def close_task(ctx: Ctx, planner: Planner, task_id: UUID, outcome: str, note: str | None) -> None:
    """Close a task; closing a plan review as ``approved`` or ``rejected`` decides the plan it is about."""
    task = await store.get_task(ctx.session, ctx.tenant_id, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}", "task_id")
    if task.status != "open":
        raise InvalidRequest("task is already closed", "task_id")
    if task.kind == "plan_review" and outcome in ("approved", "rejected"):
        plan_id = task.subject_id if task.subject_kind == "plan" else await store.requested_plan_for(
            ctx.session, ctx.tenant_id, task.customer_id, task.invoice_ids)  # a task from before subjects
        if plan_id is None:
            raise InvalidRequest("no requested payment plan matches this review task", "task_id")
        await approve_plan(ctx, planner, plan_id, outcome == "approved", note)
        return
    await store.close_task(ctx.session, task_id, outcome, note, ctx.now)
    await ctx.emit(TaskClosedV1(task_id=task_id, customer_id=task.customer_id, outcome=outcome, note=note), task.customer_id)
    await ctx.note(task.customer_id, "task_closed", f"{task.kind} closed: {outcome}" + (f" — {note}" if note else ""), task_id)


async def _require_customer(ctx: Ctx, customer_id: UUID):
    customer = await store.get_customer(ctx.session, ctx.tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", "customer_id")
    return customer


async def call_outcome(ctx: Ctx, planner: Planner, customer_id: UUID, code: str, note: str | None,
                       invoice_ids: list[UUID], promised_date: date | None, contact_id: UUID | None) -> None:
    """A call's outcome changes the plan: a promise pauses, a dispute pauses, paid waits for the money."""
    if code not in CALL_OUTCOMES:
        raise InvalidRequest(f"unknown outcome '{code}' (known: {sorted(CALL_OUTCOMES)})", "code")
    await _require_customer(ctx, customer_id)
    await readmodel.lock_customer(ctx.session, ctx.tenant_id, customer_id)
    if code == "promised":
        if promised_date is None or not invoice_ids:
            raise InvalidRequest("a promise needs promised_date and invoice_ids", "promised_date")
        grace = await _grace_days(ctx, customer_id)
        await readmodel.update_invoices(ctx.session, ctx.tenant_id, invoice_ids, promise_until=promised_date + timedelta(days=grace))
        await ctx.case(customer_id, "promise", "open", invoice_ids, promised_date=promised_date)
    elif code == "disputed":
        if not invoice_ids:
            raise InvalidRequest("a dispute names the invoice_ids", "invoice_ids")
        await readmodel.update_invoices(ctx.session, ctx.tenant_id, invoice_ids, disputed=True)
        await ctx.case(customer_id, "dispute", "open", invoice_ids)
    elif code == "paid":
        # Money said to be on its way: hold the cadence for the grace period and tag the invoices.
        until = ctx.now.date() + timedelta(days=await _grace_days(ctx, customer_id))
        await readmodel.update_invoices(ctx.session, ctx.tenant_id, invoice_ids, promise_until=until,
                                        tags=["payment_on_the_way"])
    elif code == "wrong_contact":
        if contact_id is not None:
            await readmodel.set_contact_preferences(ctx.session, ctx.tenant_id, customer_id, contact_id, {"active": False})
        await ctx.task(customer_id, "bounced_contact", "wrong contact reached by phone; find the right AP contact", invoice_ids)
    for task_id in await store.close_customer_tasks(ctx.session, ctx.tenant_id, customer_id, ("call", "callback"), code, ctx.now):
        await ctx.emit(TaskClosedV1(task_id=task_id, customer_id=customer_id, outcome=code, note=note), customer_id)
    await ctx.note(customer_id, "call", f"call outcome {code}" + (f": {note}" if note else ""))
    await planner.plan(ctx.session, [(ctx.tenant_id, customer_id)], ctx.now, None)


async def add_note(ctx: Ctx, customer_id: UUID, text: str) -> None:
    await _require_customer(ctx, customer_id)
    await ctx.note(customer_id, "note", text, uuid4())


async def set_tags(ctx: Ctx, invoice_id: UUID, tags: list[str]) -> None:
    for index, tag in enumerate(tags):
        if tag not in INVOICE_TAGS:
            raise InvalidRequest(f"unknown tag '{tag}' (known: {sorted(INVOICE_TAGS)})", f"tags[{index}]")
    invoice = await store.get_invoice(ctx.session, ctx.tenant_id, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}", "invoice_id")
    await store.set_invoice_tags(ctx.session, ctx.tenant_id, invoice_id, sorted(set(tags)))
    await ctx.note(invoice.customer_id, "tag", f"invoice {invoice.number} tagged: {', '.join(sorted(set(tags))) or 'none'}", invoice_id)


async def reassign(ctx: Ctx, customer_id: UUID, collector: str, email: str | None) -> None:
    await _require_customer(ctx, customer_id)
    await readmodel.update_customer(ctx.session, ctx.tenant_id, customer_id, collector=collector, collector_email=email,
                                    collector_manual=True)
    await store.assign_open_tasks(ctx.session, ctx.tenant_id, customer_id, collector)
    await ctx.note(customer_id, "assignment", f"assigned to {collector}")


async def set_override(ctx: Ctx, planner: Planner, customer_id: UUID, policy_id: UUID | None, hold: bool,
                       known_policies: set[UUID]) -> None:
    await _require_customer(ctx, customer_id)
    if policy_id is not None and policy_id not in known_policies:
        raise InvalidRequest(f"no active policy {policy_id}", "policy_id")
    await readmodel.lock_customer(ctx.session, ctx.tenant_id, customer_id)
    await readmodel.update_customer(ctx.session, ctx.tenant_id, customer_id, policy_override=policy_id, hold=hold)
    await ctx.note(customer_id, "override", f"policy override {policy_id or 'none'}, collector hold {'on' if hold else 'off'}")
    await planner.plan(ctx.session, [(ctx.tenant_id, customer_id)], ctx.now, None)


async def approve_plan(ctx: Ctx, planner: Planner, plan_id: UUID, approve: bool, note: str | None) -> str:
    """A collector decides on a requested plan; an approved plan replaces the cadence from now on."""
    plan = await store.get_plan(ctx.session, ctx.tenant_id, plan_id)
    if plan is None:
        raise NotFound(f"no payment plan {plan_id}", "plan_id")
    if plan.status != "requested":
        raise InvalidRequest(f"plan is already {plan.status}", "plan_id")
    status = "active" if approve else "rejected"
    invoice_ids = [UUID(i) for i in plan.invoice_ids]
    await readmodel.lock_customer(ctx.session, ctx.tenant_id, plan.customer_id)
    await store.set_plan_status(ctx.session, plan_id, status)
    if approve:
        await readmodel.update_invoices(ctx.session, ctx.tenant_id, invoice_ids, plan_id=plan_id)
    # The portal matches case events to its request by id, so the case is the request the plan came from.
    await ctx.emit(messages.case_changed(plan.request_id or plan_id, plan.customer_id, "payment_plan",
                                         "approved" if approve else "rejected", invoice_ids, note=note), plan.customer_id)
    for task_id in await store.close_subject_tasks(ctx.session, ctx.tenant_id, plan.customer_id, "plan_review", plan_id,
                                                   status, note, ctx.now, unnamed_too=True):
        await ctx.emit(TaskClosedV1(task_id=task_id, customer_id=plan.customer_id, outcome=status, note=note), plan.customer_id)
    await ctx.note(plan.customer_id, "plan", f"payment plan {status}" + (f": {note}" if note else ""), plan_id)
    await planner.plan(ctx.session, [(ctx.tenant_id, plan.customer_id)], ctx.now, None)
    return status
