"""The dunning engine: one decision per customer, consolidating all its invoices into one message a day."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from rapport_scheduler.domain import candidates as cand
from rapport_scheduler.domain.calendar import SendCalendar, Window
from rapport_scheduler.domain.catalogue import MESSAGE_CHANNELS
from rapport_scheduler.domain.model import Contact, Customer, Invoice, Plan
from rapport_scheduler.domain.policy import Policy


@dataclass
class PlannedTouch:
    channel: str
    fallback_channels: list[str]
    template_key: str
    tone: str
    stage: str
    step_offset: int
    currency: str
    invoices: list[Invoice]
    window: Window
    recipient: Contact | None
    audience: list[str] = field(default_factory=list)
    promised_date: date | None = None
    instalment: tuple[date, Decimal] | None = None
    quiet_hours: tuple[time, time] | None = None  # (start, end) the send window was cut by
    # Each listed invoice's stage as of this touch (its candidate's; the most urgent when it has two): the
    # touchpoint event carries it, so no separate stage event is sent for these invoices.
    invoice_stages: dict[UUID, str] = field(default_factory=dict)

    @property
    def total_open(self) -> Decimal:
        return sum((i.open_amount for i in self.invoices), Decimal(0))


@dataclass
class PlannedTask:
    kind: str
    reason: str
    invoice_ids: list[UUID]


@dataclass
class Decision:
    today: date
    touch: PlannedTouch | None = None
    stages: dict[UUID, tuple[int, str]] = field(default_factory=dict)
    tasks: list[PlannedTask] = field(default_factory=list)
    broken_promises: list[UUID] = field(default_factory=list)
    reminded_instalment: tuple[UUID, date] | None = None
    wake_at: datetime | None = None


def decide(customer: Customer, invoices: list[Invoice], plans: list[Plan], policy: Policy,
           now: datetime, calendar: SendCalendar = SendCalendar(), balance: Decimal | None = None) -> Decision:
    """Everything the customer's plan asks for at ``now``; the caller applies it in one transaction.

    ``balance`` is the customer's open balance when the caller already has it (it is derived from
    ``invoices`` otherwise).
    """
    contact = customer.primary_contact()
    tz = (contact.time_zone if contact and contact.time_zone else None) or customer.time_zone
    decision = Decision(today=calendar.local_today(now, tz))
    if customer.hold:
        return decision  # a collector hold stops the cadence until released
    if balance is None:
        balance = customer.open_balance(invoices)
    shift = cand.acceleration_days(policy.spec, customer, balance)
    found = _collect(customer, invoices, plans, policy, decision, shift)
    human = [c for c in found if c.channel == "call"]
    messages = [c for c in found if c.channel != "call"] if human else found
    _call_task(human, decision)
    if decision.broken_promises:
        decision.tasks.append(PlannedTask("broken_promise", "promise to pay not kept by the promised date",
                                          list(decision.broken_promises)))
    window = calendar.next_window(now, tz, customer.country)
    blocked = customer.last_message_on is not None and customer.last_message_on >= window.local_day
    if messages and not blocked:
        _touch(customer, contact, messages, window, policy, decision)
    if decision.touch is not None:
        decision.touch.quiet_hours = (calendar.closes, calendar.opens)
    decision.wake_at = _wake(customer, invoices, plans, policy, decision, calendar, tz, shift)
    return decision


def _collect(customer: Customer, invoices: list[Invoice], plans: list[Plan], policy: Policy,
             decision: Decision, shift: int) -> list[cand.Candidate]:
    """Broken promises first, then each invoice's cadence step (or non-responder follow-up), then instalments."""
    today, spec = decision.today, policy.spec
    broken: list[cand.Candidate] = []
    cadence: list[cand.Candidate] = []
    for invoice in invoices:
        if not invoice.is_open or invoice.disputed:
            continue
        promise = invoice.promise_until
        if promise is not None and today > promise:
            decision.broken_promises.append(invoice.invoice_id)
            broken.append(cand.broken_promise(invoice))
            continue
        if promise is not None or invoice.plan_id is not None:
            continue  # promised (not yet due) or under a payment plan: out of the regular cadence
        step = cand.cadence_step(spec, invoice, customer, today, shift)
        candidate = cand.from_step(invoice, step) if step else cand.non_responder(spec, invoice, customer, today)
        if candidate:
            cadence.append(candidate)
    found = broken + cadence if broken else cadence
    if plans:
        by_id = {i.invoice_id: i for i in invoices}
        for plan in plans:
            found.extend(cand.instalments_due(plan, by_id, today))
    return found


def _call_task(calls: list[cand.Candidate], decision: Decision) -> None:
    if not calls:
        return
    for c in calls:
        decision.stages[c.invoice.invoice_id] = (c.offset, c.stage)
    numbers = ", ".join(c.invoice.number for c in calls)
    decision.tasks.append(PlannedTask("call", f"cadence call step ({calls[-1].stage}) for {numbers}",
                                      [c.invoice.invoice_id for c in calls]))


def _touch(customer: Customer, contact: Contact | None, messages: list[cand.Candidate], window: Window,
           policy: Policy, decision: Decision) -> None:
    currency = messages[0].invoice.currency
    if all(c.invoice.currency == currency for c in messages):
        group = messages
    else:
        by_currency: dict[str, list[cand.Candidate]] = defaultdict(list)
        for c in messages:
            by_currency[c.invoice.currency].append(c)
        # One message a day: the currency with the most urgent stage goes first, the rest wait a day.
        group = max(by_currency.values(),
                    key=lambda cs: (max(c.rank for c in cs), sum(c.invoice.open_amount for c in cs)))
    lead = max(group, key=_rank)
    if lead.kind == "instalment":
        group = [c for c in group if c.kind == "instalment"]
    route = _route(lead, contact)
    if route is None:
        decision.tasks.append(PlannedTask("bounced_contact", f"no reachable channel for {lead.stage} message",
                                          [c.invoice.invoice_id for c in group]))
        return
    decision.touch = PlannedTouch(
        channel=route[0], fallback_channels=route[1], template_key=lead.template_key or "overdue_firm",
        tone=lead.tone, stage=lead.stage, step_offset=lead.offset, currency=lead.invoice.currency,
        invoices=_unique([c.invoice for c in group]), window=window, recipient=contact,
        audience=list(lead.step.audience) if lead.step else [],
        promised_date=lead.invoice.promise_until if lead.kind == "broken_promise" else None,
        instalment=lead.instalment, invoice_stages=_invoice_stages(group),
    )
    for c in group:
        if c.kind == "cadence":
            decision.stages[c.invoice.invoice_id] = (c.offset, c.stage)
    if lead.kind == "instalment" and lead.instalment:
        plan_id = lead.invoice.plan_id
        decision.reminded_instalment = (plan_id, lead.instalment[0]) if plan_id else None
    if lead.kind == "non_responder" and policy.spec.non_responder and policy.spec.non_responder.call_task:
        decision.tasks.append(PlannedTask("call", "non-responder: no reply since the invoices fell due",
                                          [c.invoice.invoice_id for c in group]))
    if route[0] == "agency":
        decision.tasks.append(PlannedTask("agency_handoff", "cadence reached the agency hand-off step",
                                          [c.invoice.invoice_id for c in group]))


def _invoice_stages(group: list[cand.Candidate]) -> dict[UUID, str]:
    stages: dict[UUID, str] = {}
    ranks: dict[UUID, int] = {}
    for c in group:
        iid = c.invoice.invoice_id
        if iid not in ranks or c.rank > ranks[iid]:
            stages[iid], ranks[iid] = c.stage, c.rank
    return stages


def _rank(c: cand.Candidate) -> int:
    return c.rank


SORTED_MESSAGE_CHANNELS = tuple(sorted(MESSAGE_CHANNELS))


def _route(lead: cand.Candidate, contact: Contact | None) -> tuple[str, list[str]] | None:
    """The channel to use and its fallbacks, honouring the contact's preference and opt-outs."""
    if lead.channel not in MESSAGE_CHANNELS:
        return lead.channel, []
    order = [lead.channel]
    if contact and contact.preferred_channel in MESSAGE_CHANNELS:
        order.insert(0, contact.preferred_channel)
    if lead.step and lead.step.fallback_channel:
        order.append(lead.step.fallback_channel)
    order += SORTED_MESSAGE_CHANNELS
    usable = list(dict.fromkeys(c for c in order if contact is not None and contact.can_use(c)))
    return (usable[0], usable[1:]) if usable else None


def _unique(invoices: list[Invoice]) -> list[Invoice]:
    return list({i.invoice_id: i for i in invoices}.values())


def _wake(customer: Customer, invoices: list[Invoice], plans: list[Plan], policy: Policy, decision: Decision,
          calendar: SendCalendar, tz: str, shift: int) -> datetime | None:
    """The next local midnight on which something could be due (the timer's next firing)."""
    today, spec = decision.today, policy.spec
    stages, broken = decision.stages, decision.broken_promises
    days: list[date] = []
    for invoice in invoices:
        if not invoice.is_open or invoice.disputed:
            continue
        if invoice.promise_until and invoice.invoice_id not in broken:
            days.append(invoice.promise_until + timedelta(days=1))
        if invoice.plan_id is None:
            staged = stages.get(invoice.invoice_id)
            done = staged[0] if staged is not None else invoice.stage_offset
            step_day = cand.next_step_day(spec, invoice, done, shift)
            if step_day:
                days.append(step_day)
            follow_up = cand.non_responder_day(spec, invoice, customer)
            if follow_up:
                days.append(follow_up)
    for plan in plans:
        instalment_day = cand.next_instalment_day(plan)
        if instalment_day:
            days.append(instalment_day)
    if not days:
        return None
    next_day = max(min(days), today + timedelta(days=1))
    return calendar.local_midnight(next_day, tz)


def apply(decision: Decision, customer: Customer, invoices: list[Invoice], plans: list[Plan]) -> None:
    """Record a decision in the in-memory state, so the next decision knows what was done."""
    by_id = {i.invoice_id: i for i in invoices}
    for invoice_id, (offset, _stage) in decision.stages.items():
        by_id[invoice_id].stage_offset = offset
    for invoice_id in decision.broken_promises:
        by_id[invoice_id].promise_until = None
    customer.broken_promises += len(decision.broken_promises)
    if decision.touch is not None:
        customer.last_message_on = decision.touch.window.local_day
    if decision.reminded_instalment:
        plan_id, due = decision.reminded_instalment
        for plan in plans:
            for inst in plan.instalments:
                if plan.plan_id == plan_id and inst.due_date == due:
                    inst.reminded = True
