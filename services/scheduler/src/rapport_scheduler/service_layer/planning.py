"""Run the engine for a batch of customers and write what it decided: state, timers, events, together.

A batch costs a fixed number of statements whatever its size: one to load (or claim and load) and one
that writes every table (column arrays through ``unnest``); only a broken promise adds one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import Envelope

from rapport_scheduler.adapters import batch_load, batch_write as bw, policies as policy_store, portfolio as store
from rapport_scheduler.adapters import worklist as work_store
from rapport_scheduler.adapters.ids import id_stream
from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.engine import Decision, apply, decide
from rapport_scheduler.domain.policy import Policy
from rapport_scheduler.domain.selection import select_policy
from rapport_scheduler.domain.worklist import expected_value
from rapport_scheduler.service_layer import messages

Key = tuple[UUID, UUID]
NOTHING_TOUCHED: dict[UUID, str] = {}
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
        out = _BatchOut(writes, messages.Emitter(self._topics, now), now)
        for key, pf in batch.portfolios.items():
            policies = self._policies[pf.tenant_id][1]
            balance = pf.customer.open_balance(pf.invoices)
            policy = select_policy(policies, pf.customer, balance, pf.policy_override)
            calendar = self._calendar_for(policy, batch.quiet_hours.get(pf.tenant_id))
            decision = decide(pf.customer, pf.invoices, pf.plans, policy, now, calendar, balance)
            apply(decision, pf.customer, pf.invoices, pf.plans)
            out.record(pf, policy, decision, batch.causes.get(key, cause))
        for key in batch.keys:
            writes.wakes.setdefault(key, None)
        await self._write(session, writes, out)
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

    async def _write(self, session: AsyncSession, w: Writes, out: "_BatchOut") -> None:
        for tenant, cid, cause in w.broken:  # rare: one statement per customer whose promise broke
            events = out.emitter.customer(tenant, cid, cause)
            for case_id, invoice_ids in await work_store.close_cases(session, tenant, cid, "promise", "broken"):
                w.rows.add("obx", *events.record(messages.case_changed(case_id, cid, "promise", "broken", invoice_ids),
                                                 next(out.ids)))
        timers = w.rows.table("tmr")
        for (tenant, cid), due in w.wakes.items():
            timers.append((tenant, cid, due))
        await bw.write_all(session, w.rows, out.now)


class _BatchOut:
    """Turns one batch's decisions into rows: what ``Planner.plan_batch`` writes in one statement.

    The hot path of the ticker: rows are appended as tuples, ids come from one bulk stream, and the
    touchpoint and stage events are serialised straight to JSON (their pydantic twins in ``messages``
    are held equal to them by unit tests).
    """

    def __init__(self, writes: Writes, emitter: messages.Emitter, now: datetime) -> None:
        self.writes, self.emitter, self.now = writes, emitter, now
        self.ids = id_stream()
        self.travelled = messages.travelled(now)
        rows = writes.rows
        self.tp, self.inv, self.cus, self.obx, self.tl = (rows.table(t) for t in ("tp", "inv", "cus", "obx", "tl"))

    def record(self, pf: store.Portfolio, policy: Policy, d: Decision, cause: Cause | None) -> None:
        w = self.writes
        tenant, customer = pf.tenant_id, pf.customer
        cid = customer.customer_id
        events: messages.CustomerEvents | None = None
        touched: dict[UUID, str] = NOTHING_TOUCHED
        if d.touch is not None:
            events = self.emitter.customer(tenant, cid, cause)
            touched = self._touch(events, pf, policy, d)
        if d.stages or touched or d.broken_promises:
            events = events or self.emitter.customer(tenant, cid, cause)
            self._invoices(events, pf, policy, d, touched)
        self.cus.append((tenant, cid, customer.last_message_on, customer.broken_promises, policy.policy_id,
                         policy.version))
        if d.reminded_instalment:
            for plan in pf.plans:
                w.rows.add("pln", tenant, plan.plan_id, bw.as_json(store.plan_instalments_json(plan)))
        if d.broken_promises:
            w.broken.append((tenant, cid, cause))
        if d.tasks:
            self._tasks(events or self.emitter.customer(tenant, cid, cause), pf, d)
        w.wakes[(tenant, cid)] = d.wake_at

    def _touch(self, events: messages.CustomerEvents, pf: store.Portfolio, policy: Policy,
               d: Decision) -> dict[UUID, str]:
        tenant, customer, touch = pf.tenant_id, pf.customer, d.touch
        cid = customer.customer_id
        tp_id = next(self.ids)
        data = messages.touchpoint_data(tp_id, customer, touch, policy, d.today, self.travelled)
        self.obx.append(events.raw(messages.TOUCHPOINT_TYPE, messages.TOUCHPOINT_TOPIC, data, next(self.ids)))
        window = touch.window
        invoice_ids = "[" + ",".join(f'"{i.invoice_id}"' for i in touch.invoices) + "]"
        self.tp.append((tp_id, tenant, cid, window.local_day, touch.stage, touch.channel, touch.template_key,
                        touch.tone, policy.policy_id, policy.version, invoice_ids, touch.currency, touch.total_open,
                        window.start, window.end))
        # No timeline row: the touchpoint row is its own timeline line (``worklist.TIMELINE``).
        return touch.invoice_stages  # every listed invoice, with the stage the event told

    def _invoices(self, events: messages.CustomerEvents, pf: store.Portfolio, policy: Policy, d: Decision,
                  touched: dict[UUID, str]) -> None:
        """Stage rows; a stage event only for an invoice the touchpoint did not list (the touchpoint event
        already says the stage and last touch of those it lists)."""
        tenant, cid, now = pf.tenant_id, pf.customer.customer_id, self.now
        stages, broken = d.stages, d.broken_promises
        for inv in pf.invoices:
            iid = inv.invoice_id
            staged = stages.get(iid)
            told = touched.get(iid)
            if staged is None and told is None and iid not in broken:
                continue
            stage = told or (staged[1] if staged else "broken_promise")
            self.inv.append((tenant, iid, inv.stage_offset, stage, inv.promise_until, told is not None,
                             policy.policy_id, policy.version))
            if staged and told is None:
                data = messages.stage_changed_data(cid, iid, staged[1], now)
                self.obx.append(events.raw(messages.STAGE_TYPE, messages.STAGE_TOPIC, data, next(self.ids)))

    def _tasks(self, events: messages.CustomerEvents, pf: store.Portfolio, d: Decision) -> None:
        tenant, customer, rows = pf.tenant_id, pf.customer, self.writes.rows
        cid = customer.customer_id
        oldest = max([(d.today - i.due_date).days for i in pf.invoices] or [0])
        ranking = expected_value(customer.open_balance(pf.invoices), customer.risk_band, oldest, customer.broken_promises)
        for task in d.tasks:
            task_id = next(self.ids)
            rows.add("tsk", task_id, tenant, cid, task.kind, task.reason, bw.as_json([str(x) for x in task.invoice_ids]),
                     customer.collector)
            created = messages.task_created(task_id, cid, task, customer.collector, ranking.score)
            self.obx.append(events.record(created, next(self.ids)))
            self.tl.append((tenant, cid, "task", f"{task.kind}: {task.reason}", task_id))


def timeline_row(tenant: UUID, customer: UUID, at: datetime, kind: str, summary: str, ref: UUID | None = None,
                 author: str | None = None) -> dict[str, Any]:
    return {"tenant_id": tenant, "customer_id": customer, "at": at, "kind": kind, "summary": summary,
            "ref_id": ref, "author": author}
