"""What each invoice asks for today: the one step that applies now, never the ones it missed."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rapport_scheduler.domain.model import Customer, Invoice, Plan
from rapport_scheduler.domain.policy import PolicySpec, Step

BROKEN_PROMISE_RANK = 100_000
INSTALMENT_RANK = -100_000
INSTALMENT_LEAD_DAYS = 3


@dataclass
class Candidate:
    invoice: Invoice
    kind: str  # cadence | non_responder | broken_promise | instalment
    rank: int
    channel: str
    template_key: str | None
    tone: str
    stage: str
    offset: int
    step: Step | None = None
    instalment: tuple[date, Decimal] | None = None


def acceleration_days(spec: PolicySpec, customer: Customer, balance: Decimal) -> int:
    """How many days sooner every step runs for this customer (the largest matching rule wins)."""
    shift = 0
    for rule in spec.accelerations:
        if rule.risk_bands and customer.risk_band not in rule.risk_bands:
            continue
        if rule.min_balance is not None and balance < rule.min_balance:
            continue
        shift = max(shift, rule.days)
    return shift


def _step_applies(step: Step, invoice: Invoice, customer: Customer) -> bool:
    if step.min_balance is not None and invoice.open_amount < step.min_balance:
        return False
    return not step.risk_bands or customer.risk_band in step.risk_bands


class CompiledSteps:
    """A policy's steps prepared once for the hot path: latest first, and their offsets sorted."""

    __slots__ = ("spec", "latest_first", "offsets")

    def __init__(self, spec: PolicySpec) -> None:
        self.spec = spec
        self.latest_first = tuple(reversed(spec.steps))
        self.offsets = tuple(sorted(s.offset_days for s in spec.steps))


_compiled: dict[int, CompiledSteps] = {}


def compiled(spec: PolicySpec) -> CompiledSteps:
    """The spec's :class:`CompiledSteps`, made once per spec object (specs are immutable)."""
    entry = _compiled.get(id(spec))
    if entry is None or entry.spec is not spec:  # the entry holds its spec, so an id is never reused under it
        if len(_compiled) > 4096:
            _compiled.clear()
        entry = _compiled[id(spec)] = CompiledSteps(spec)
    return entry


def cadence_step(spec: PolicySpec, invoice: Invoice, customer: Customer, today: date, shift: int) -> Step | None:
    """The latest step whose day has come and that this invoice has not had yet."""
    days = (today - invoice.due_date).days
    done = invoice.stage_offset if invoice.stage_offset is not None else -10**6
    for s in compiled(spec).latest_first:
        if done < s.offset_days and s.offset_days - shift <= days and _step_applies(s, invoice, customer):
            return s
    return None


def next_step_day(spec: PolicySpec, invoice: Invoice, after_offset: int | None, shift: int) -> date | None:
    done = after_offset if after_offset is not None else -10**6
    offsets = compiled(spec).offsets
    index = bisect_right(offsets, done)  # the first offset after ``done``
    return invoice.due_date + timedelta(days=offsets[index] - shift) if index < len(offsets) else None


def from_step(invoice: Invoice, step: Step) -> Candidate:
    return Candidate(invoice, "cadence", step.offset_days, step.channel, step.template_key, step.tone,
                     step.stage, step.offset_days, step=step)


def non_responder(spec: PolicySpec, invoice: Invoice, customer: Customer, today: date) -> Candidate | None:
    """Past the threshold with no reply since the invoice fell due: a follow-up every few days."""
    rule = spec.non_responder
    if rule is None:
        return None
    days = (today - invoice.due_date).days
    if days < rule.after_days:
        return None
    if customer.replied_at is not None and customer.replied_at.date() >= invoice.due_date:
        return None
    last = customer.last_message_on
    if last is not None and (today - last).days < rule.every_days:
        return None
    return Candidate(invoice, "non_responder", days, rule.channel, rule.template_key, rule.tone,
                     "non_responder", invoice.stage_offset or days)


def non_responder_day(spec: PolicySpec, invoice: Invoice, customer: Customer) -> date | None:
    rule = spec.non_responder
    if rule is None or (customer.replied_at is not None and customer.replied_at.date() >= invoice.due_date):
        return None
    threshold = invoice.due_date + timedelta(days=rule.after_days)
    if customer.last_message_on is None:
        return threshold
    return max(threshold, customer.last_message_on + timedelta(days=rule.every_days))


def broken_promise(invoice: Invoice) -> Candidate:
    return Candidate(invoice, "broken_promise", BROKEN_PROMISE_RANK, "email", "broken_promise", "firm",
                     "broken_promise", invoice.stage_offset if invoice.stage_offset is not None else 0)


def instalments_due(plan: Plan, invoices: dict, today: date) -> list[Candidate]:
    out = []
    for inst in plan.instalments:
        if inst.reminded or not (inst.due_date - timedelta(days=INSTALMENT_LEAD_DAYS) <= today <= inst.due_date):
            continue
        for invoice_id in plan.invoice_ids:
            invoice = invoices.get(invoice_id)
            if invoice is not None and invoice.is_open:
                out.append(Candidate(invoice, "instalment", INSTALMENT_RANK, "email", "plan_instalment",
                                     "friendly", "payment_plan", invoice.stage_offset or 0,
                                     instalment=(inst.due_date, inst.amount)))
        break  # one instalment reminder at a time
    return out


def next_instalment_day(plan: Plan) -> date | None:
    pending = [i.due_date - timedelta(days=INSTALMENT_LEAD_DAYS) for i in plan.instalments if not i.reminded]
    return min(pending) if pending else None
