"""Run the engine for a batch of customers and write what it decided: state, timers, events, together.

A batch costs a fixed number of statements whatever its size: one to load (or claim and load), one
per table written (column arrays through ``unnest``), and a COPY for the outbox.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import Envelope

from rapport_scheduler.adapters import batch_load, batch_write as bw, policies as policy_store, portfolio as store
from rapport_scheduler.adapters import worklist as work_store
from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.engine import Decision, apply, decide
from rapport_scheduler.domain.policy import Policy
from rapport_scheduler.domain.selection import select_policy
from rapport_scheduler.domain.worklist import expected_value
from rapport_scheduler.service_layer import messages

Key = tuple[UUID, UUID]
Cause = batch_load.Cause | Envelope  # anything with ``id`` and ``correlation_id``


@dataclass
class Writes:
    """Everything a batch decided: rows per table (written in one statement) and customers to follow up."""

    rows: bw.Rows = field(default_factory=bw.Rows)
    wakes: dict[Key, datetime | None] = field(default_factory=dict)
    broken: list[tuple[UUID, UUID, Cause | None]] = field(default_factory=list)

    @property
    def touchpoints(self) -> int:
        return self.rows.count("tp")


class Planner:
    def __init__(self, topics: TopicNames, calendar: SendCalendar | None = None) -> None:
        self._topics = topics
        self._calendar = calendar or SendCalendar()
        # Policies per tenant with the stamp they were read at; reloaded only when the stamp moves.
        self._policies: dict[UUID, tuple[int, list[Policy]]] = {}
        self.policy_loads = 0

    async def plan(self, session: AsyncSession, keys: list[Key], now: datetime, cause: Cause | None = None) -> Writes:
        """Decide for each customer in ``keys`` (their timers must already be locked by the caller)."""
        return await self.plan_batch(session, await batch_load.load(session, keys), now, cause)

    async def plan_batch(self, session: AsyncSession, batch: batch_load.Batch, now: datetime,
                         cause: Cause | None = None) -> Writes:
        """Decide for a loaded batch; each customer's events are caused by the event that made it due."""
        writes = Writes()
        for tenant_id, stamp in batch.stamps.items():
            await self._refresh_policies(session, tenant_id, stamp)
        for key, pf in batch.portfolios.items():
            policies = self._policies[pf.tenant_id][1]
            balance = pf.customer.open_balance(pf.invoices)
            policy = select_policy(policies, pf.customer, balance, pf.policy_override)
            calendar = self._calendar_for(policy, batch.quiet_hours.get(pf.tenant_id))
            decision = decide(pf.customer, pf.invoices, pf.plans, policy, now, calendar)
            apply(decision, pf.customer, pf.invoices, pf.plans)
            self._record(writes, pf, policy, decision, now, batch.causes.get(key, cause))
        for key in batch.keys:
            writes.wakes.setdefault(key, None)
        await self._write(session, writes, now)
        return writes

    def _calendar_for(self, policy: Policy, tenant_quiet: tuple[time, time] | None) -> SendCalendar:
        """Quiet hours: the policy's, else the tenant's, else the default calendar's."""
        quiet = policy.spec.quiet_hours
        if quiet is not None:
            return SendCalendar.quiet(quiet.start, quiet.end)
        return SendCalendar.quiet(*tenant_quiet) if tenant_quiet else self._calendar

    async def _refresh_policies(self, session: AsyncSession, tenant_id: UUID, stamp: int) -> None:
        cached = self._policies.get(tenant_id)
        if cached is None or cached[0] != stamp:
            self._policies[tenant_id] = (stamp, await policy_store.current(session, tenant_id))
            self.policy_loads += 1

    def _event(self, payload, tenant: UUID, customer: UUID, now: datetime,
               cause: Cause | None) -> messages.OutboxRecord:
        return messages.outbox_record(self._topics, payload, tenant, customer, now, cause)

    def _record(self, w: Writes, pf: store.Portfolio, policy: Policy, d: Decision, now: datetime,
                cause: Cause | None) -> None:
        tenant, customer = pf.tenant_id, pf.customer
        cid = customer.customer_id
        touched = self._record_touch(w, pf, policy, d, now, cause)
        self._record_invoices(w, pf, policy, d, touched, now, cause)
        w.rows.add("cus", tenant, cid, customer.last_message_on, customer.broken_promises, policy.policy_id,
                        policy.version)
        if d.reminded_instalment:
            for plan in pf.plans:
                w.rows.add("pln", tenant, plan.plan_id, bw.as_json(store.plan_instalments_json(plan)))
        if d.broken_promises:
            w.broken.append((tenant, cid, cause))
        self._record_tasks(w, pf, d, now, cause)
        w.wakes[(tenant, cid)] = d.wake_at

    def _record_touch(self, w: Writes, pf: store.Portfolio, policy: Policy, d: Decision, now: datetime,
                      cause: Cause | None) -> set[UUID]:
        if d.touch is None:
            return set()
        tenant, cid, touch = pf.tenant_id, pf.customer.customer_id, d.touch
        touched = {i.invoice_id for i in touch.invoices}
        tp_id = uuid4()
        payload = messages.touchpoint(tp_id, pf.customer, touch, policy, d.today, now)
        w.rows.add("obx", *self._event(payload, tenant, cid, now, cause))
        w.rows.add("tp", tp_id, tenant, cid, touch.window.local_day, touch.stage, touch.channel, touch.template_key,
                   touch.tone, policy.policy_id, policy.version, bw.as_json([str(x) for x in touched]),
                   touch.currency, touch.total_open, touch.window.start, touch.window.end, now)
        numbers = ", ".join(i.number for i in touch.invoices)
        _line(w, tenant, cid, now, "touchpoint", f"{touch.channel} '{touch.template_key}' ({touch.stage}) for {numbers}",
              tp_id)
        return touched

    def _record_invoices(self, w: Writes, pf: store.Portfolio, policy: Policy, d: Decision, touched: set[UUID],
                         now: datetime, cause: Cause | None) -> None:
        tenant, cid = pf.tenant_id, pf.customer.customer_id
        changed = set(d.stages) | touched | set(d.broken_promises)
        for inv in (i for i in pf.invoices if i.invoice_id in changed):
            stage = d.stages.get(inv.invoice_id, (None, None))[1]
            if stage is None and inv.invoice_id in d.broken_promises:
                stage = "broken_promise"
            w.rows.add("inv", tenant, inv.invoice_id, inv.stage_offset, stage, inv.promise_until,
                           now if inv.invoice_id in touched else None, policy.policy_id, policy.version)
            if inv.invoice_id in d.stages:
                changed_stage = messages.stage_changed(cid, inv.invoice_id, d.stages[inv.invoice_id][1], now)
                w.rows.add("obx", *self._event(changed_stage, tenant, cid, now, cause))

    def _record_tasks(self, w: Writes, pf: store.Portfolio, d: Decision, now: datetime, cause: Cause | None) -> None:
        if not d.tasks:
            return
        tenant, customer = pf.tenant_id, pf.customer
        cid = customer.customer_id
        oldest = max([(d.today - i.due_date).days for i in pf.invoices] or [0])
        ranking = expected_value(customer.open_balance(pf.invoices), customer.risk_band, oldest, customer.broken_promises)
        for task in d.tasks:
            task_id = uuid4()
            w.rows.add("tsk", task_id, tenant, cid, task.kind, task.reason,
                       bw.as_json([str(x) for x in task.invoice_ids]),
                       customer.collector, now)
            created = messages.task_created(task_id, cid, task, customer.collector, ranking.score)
            w.rows.add("obx", *self._event(created, tenant, cid, now, cause))
            _line(w, tenant, cid, now, "task", f"{task.kind}: {task.reason}", task_id)

    async def _write(self, session: AsyncSession, w: Writes, now: datetime) -> None:
        for tenant, cid, cause in w.broken:  # rare: one statement per customer whose promise broke
            for case_id, invoice_ids in await work_store.close_cases(session, tenant, cid, "promise", "broken"):
                w.rows.add("obx", *self._event(messages.case_changed(case_id, cid, "promise", "broken", invoice_ids),
                                               tenant, cid, now, cause))
        for (tenant, cid), due in w.wakes.items():
            w.rows.add("tmr", tenant, cid, due)
        await bw.write_all(session, w.rows)


def _line(w: Writes, tenant: UUID, customer: UUID, at: datetime, kind: str, summary: str, ref: UUID | None) -> None:
    w.rows.add("tl", tenant, customer, at, kind, summary, ref, None)


def timeline_row(tenant: UUID, customer: UUID, at: datetime, kind: str, summary: str, ref: UUID | None = None,
                 author: str | None = None) -> dict[str, Any]:
    return {"tenant_id": tenant, "customer_id": customer, "at": at, "kind": kind, "summary": summary,
            "ref_id": ref, "author": author}
