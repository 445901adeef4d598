"""Run the engine for a batch of customers and write what it decided: state, timers, events, together."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.envelope import Envelope

from rapport_scheduler.adapters import orm, policies as policy_store, portfolio as store, worklist as work_store
from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.engine import Decision, apply, decide
from rapport_scheduler.domain.policy import Policy
from rapport_scheduler.domain.selection import select_policy
from rapport_scheduler.domain.worklist import expected_value
from rapport_scheduler.service_layer import messages

Key = tuple[UUID, UUID]


@dataclass
class Writes:
    """Everything a batch decided, written with a handful of bulk statements."""

    events: list[Envelope] = field(default_factory=list)
    touchpoints: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    wakes: dict[Key, datetime | None] = field(default_factory=dict)
    broken: list[Key] = field(default_factory=list)


class Planner:
    def __init__(self, outbox: Outbox, calendar: SendCalendar | None = None) -> None:
        self._outbox = outbox
        self._calendar = calendar or SendCalendar()

    async def plan(self, session: AsyncSession, keys: list[Key], now: datetime, cause: Envelope | None = None) -> Writes:
        """Decide for each customer in ``keys`` (their timers must already be locked by the caller)."""
        portfolios = await store.load(session, keys)
        tenant_policies: dict[UUID, list[Policy]] = {}
        writes = Writes()
        for key, pf in portfolios.items():
            if pf.tenant_id not in tenant_policies:
                tenant_policies[pf.tenant_id] = await policy_store.current(session, pf.tenant_id)
            balance = pf.customer.open_balance(pf.invoices)
            policy = select_policy(tenant_policies[pf.tenant_id], pf.customer, balance, pf.policy_override)
            decision = decide(pf.customer, pf.invoices, pf.plans, policy, now, self._calendar)
            apply(decision, pf.customer, pf.invoices, pf.plans)
            self._record(writes, pf, policy, decision, now, cause)
        for key in keys:
            writes.wakes.setdefault(key, None)
        await self._write(session, writes, now, cause)
        return writes

    def _record(self, w: Writes, pf: store.Portfolio, policy: Policy, d: Decision, now: datetime,
                cause: Envelope | None) -> None:
        tenant, customer = pf.tenant_id, pf.customer
        cid = customer.customer_id
        touched = self._record_touch(w, pf, policy, d, now, cause)
        self._record_invoices(w, pf, policy, d, touched, now, cause)
        w.customers.append({"k_tenant": tenant, "k_customer": cid, "k_last": customer.last_message_on,
                            "k_broken": customer.broken_promises, "k_policy": policy.policy_id, "k_version": policy.version})
        for plan in pf.plans:
            w.plans.append({"k_tenant": tenant, "k_plan": plan.plan_id, "k_instalments": store.plan_instalments_json(plan)})
        if d.broken_promises:
            w.broken.append((tenant, cid))
        self._record_tasks(w, pf, d, now, cause)
        w.wakes[(tenant, cid)] = d.wake_at

    def _record_touch(self, w: Writes, pf: store.Portfolio, policy: Policy, d: Decision, now: datetime,
                      cause: Envelope | None) -> set[UUID]:
        if d.touch is None:
            return set()
        tenant, cid, touch = pf.tenant_id, pf.customer.customer_id, d.touch
        touched = {i.invoice_id for i in touch.invoices}
        tp_id = uuid4()
        payload = messages.touchpoint(tp_id, pf.customer, touch, policy, d.today, now)
        w.events.append(messages.event(payload, tenant, cid, now, cause))
        w.touchpoints.append({
            "touchpoint_id": tp_id, "tenant_id": tenant, "customer_id": cid, "send_day": touch.window.local_day,
            "stage": touch.stage, "channel": touch.channel, "template_key": touch.template_key, "tone": touch.tone,
            "policy_id": policy.policy_id, "policy_version": policy.version,
            "invoice_ids": [str(x) for x in touched], "currency": touch.currency, "total_open": touch.total_open,
            "send_not_before": touch.window.start, "send_not_after": touch.window.end, "decided_at": now})
        numbers = ", ".join(i.number for i in touch.invoices)
        w.timeline.append(_line(tenant, cid, now, "touchpoint",
                                f"{touch.channel} '{touch.template_key}' ({touch.stage}) for {numbers}", tp_id))
        return touched

    def _record_invoices(self, w: Writes, pf: store.Portfolio, policy: Policy, d: Decision, touched: set[UUID],
                         now: datetime, cause: Envelope | None) -> None:
        tenant, cid = pf.tenant_id, pf.customer.customer_id
        changed = set(d.stages) | touched | set(d.broken_promises)
        for inv in (i for i in pf.invoices if i.invoice_id in changed):
            stage = d.stages.get(inv.invoice_id, (None, None))[1]
            if stage is None and inv.invoice_id in d.broken_promises:
                stage = "broken_promise"
            w.invoices.append({"k_tenant": tenant, "k_invoice": inv.invoice_id, "k_offset": inv.stage_offset,
                               "k_stage": stage, "k_promise": inv.promise_until,
                               "k_touch": now if inv.invoice_id in touched else None,
                               "k_policy": policy.policy_id, "k_version": policy.version})
            if inv.invoice_id in d.stages:
                changed_stage = messages.stage_changed(cid, inv.invoice_id, d.stages[inv.invoice_id][1], now)
                w.events.append(messages.event(changed_stage, tenant, cid, now, cause))

    def _record_tasks(self, w: Writes, pf: store.Portfolio, d: Decision, now: datetime, cause: Envelope | None) -> None:
        if not d.tasks:
            return
        tenant, customer = pf.tenant_id, pf.customer
        cid = customer.customer_id
        oldest = max([(d.today - i.due_date).days for i in pf.invoices] or [0])
        ranking = expected_value(customer.open_balance(pf.invoices), customer.risk_band, oldest, customer.broken_promises)
        for task in d.tasks:
            task_id = uuid4()
            w.tasks.append({"task_id": task_id, "tenant_id": tenant, "customer_id": cid, "kind": task.kind,
                            "reason": task.reason, "invoice_ids": [str(x) for x in task.invoice_ids],
                            "status": "open", "assignee": customer.collector, "created_at": now})
            created = messages.task_created(task_id, cid, task, customer.collector, ranking.score)
            w.events.append(messages.event(created, tenant, cid, now, cause))
            w.timeline.append(_line(tenant, cid, now, "task", f"{task.kind}: {task.reason}", task_id))

    async def _write(self, session: AsyncSession, w: Writes, now: datetime, cause: Envelope | None) -> None:
        await store.insert_rows(session, orm.touchpoints, w.touchpoints)
        await store.executemany(session, store.invoice_stage_update(), w.invoices)
        await store.executemany(session, store.customer_update(), w.customers)
        await store.executemany(session, store.plan_update(), w.plans)
        await store.insert_rows(session, orm.tasks, w.tasks)
        await store.insert_rows(session, orm.timeline, w.timeline)
        for tenant, cid in w.broken:
            for case_id, invoice_ids in await work_store.close_cases(session, tenant, cid, "promise", "broken"):
                w.events.append(messages.event(messages.case_changed(case_id, cid, "promise", "broken", invoice_ids),
                                               tenant, cid, now, cause))
        await store.set_timers(session, w.wakes)
        await self._outbox.add_many(session, w.events)


def _line(tenant: UUID, customer: UUID, at: datetime, kind: str, summary: str, ref: UUID | None = None,
          author: str | None = None) -> dict[str, Any]:
    return {"tenant_id": tenant, "customer_id": customer, "at": at, "kind": kind, "summary": summary,
            "ref_id": ref, "author": author}


timeline_row = _line
