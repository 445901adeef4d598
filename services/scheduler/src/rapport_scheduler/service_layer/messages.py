"""Turning engine decisions into the integration events other services read."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import orjson

from rapport_shared.bus.outbox import lane_of
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.time import utcnow
from rapport_shared.contracts.task import CaseStatusChangedV1, DunningStageChangedV1, TaskCreatedV1
from rapport_shared.contracts.touchpoint import Collector, CustomerRef, Recipient, TouchInvoice, TouchpointDueV1

from rapport_scheduler.adapters.ids import new_id
from rapport_scheduler.domain.engine import PlannedTask, PlannedTouch
from rapport_scheduler.domain.model import Customer
from rapport_scheduler.domain.policy import Policy

SOURCE = "scheduler"


def event(payload, tenant_id: UUID, customer_id: UUID, now: datetime, cause: Envelope | None = None) -> Envelope:
    return make_event(payload, source=SOURCE, tenant_id=tenant_id, customer_key=customer_id, causation=cause, time=now)


OutboxRecord = tuple[UUID, str, str, int, bytes, bytes]


class Emitter:
    """Outbox rows of events serialised in one pass, without building an envelope around them.

    The payload is JSON once (a pydantic model dumped once, or the hot path's ready bytes); the
    envelope's attributes around it are formatted directly, the per-customer part once per customer.
    Every attribute is a UUID, an ISO timestamp or a fixed name: nothing needs JSON escaping. The bytes
    decode to the envelope ``make_event`` would have made (unit tests hold this). A cause is an
    envelope or anything else with ``id`` and ``correlation_id``.
    """

    def __init__(self, topics: TopicNames, now: datetime) -> None:
        self._topics = topics
        self._resolved: dict[str, str] = {}
        self._time = now.isoformat()

    def topic(self, name: str) -> str:
        resolved = self._resolved.get(name)
        if resolved is None:
            resolved = self._resolved[name] = self._topics(name)
        return resolved

    def customer(self, tenant_id: UUID, customer_id: UUID, cause=None) -> "CustomerEvents":
        return CustomerEvents(self, tenant_id, customer_id, cause)

    def record(self, payload, tenant_id: UUID, customer_id: UUID, cause=None,
               event_id: UUID | None = None) -> OutboxRecord:
        return self.customer(tenant_id, customer_id, cause).record(payload, event_id)


class CustomerEvents:
    """The envelope attributes every event of one customer shares in one batch, formatted once."""

    __slots__ = ("_emitter", "_key", "_lane", "_correlation", "_tail")

    def __init__(self, emitter: Emitter, tenant_id: UUID, customer_id: UUID, cause) -> None:
        key = f"{tenant_id}:{customer_id}"
        self._emitter = emitter
        self._key = key.encode()
        self._lane = lane_of(self._key)
        self._correlation = str(cause.correlation_id) if cause else None
        causation = f'"{cause.id}"' if cause else "null"
        self._tail = (f'","source":"{SOURCE}","time":"{emitter._time}","subject":null,'
                      f'"datacontenttype":"application/json","tenant_id":"{tenant_id}",'
                      f'"causation_id":{causation},"partitionkey":"{key}","data":')

    def raw(self, event_type: str, topic: str, data: bytes, event_id: UUID) -> OutboxRecord:
        """The row of an event whose payload is already JSON (``data``)."""
        head = (f'{{"specversion":"1.0","id":"{event_id}","type":"{event_type}",'
                f'"correlation_id":"{self._correlation or event_id}{self._tail}')
        return (event_id, event_type, self._emitter.topic(topic), self._lane, self._key,
                b"".join((head.encode(), data, b"}")))

    def record(self, payload, event_id: UUID | None = None) -> OutboxRecord:
        return self.raw(payload.event_type, payload.topic, payload.model_dump_json().encode(), event_id or new_id())


def outbox_record(topics: TopicNames, payload, tenant_id: UUID, customer_id: UUID, now: datetime,
                  cause=None) -> OutboxRecord:
    """The outbox row of ``make_event(payload, ...)``, serialised in one pass (see :class:`Emitter`)."""
    return Emitter(topics, now).record(payload, tenant_id, customer_id, cause)


def _json_default(value):
    if isinstance(value, (UUID, Decimal)):
        return str(value) if isinstance(value, UUID) else format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: dict) -> bytes:
    """JSON of a payload dict as pydantic would write it: UUIDs as strings, amounts as plain decimal strings."""
    return orjson.dumps(data, default=_json_default)


TOUCHPOINT_TYPE, TOUCHPOINT_TOPIC = TouchpointDueV1.event_type, TouchpointDueV1.topic
STAGE_TYPE, STAGE_TOPIC = DunningStageChangedV1.event_type, DunningStageChangedV1.topic


def touchpoint_data(touchpoint_id: UUID, customer: Customer, touch: PlannedTouch, policy: Policy, today,
                    clock_offset_seconds: float) -> bytes:
    """The JSON of :func:`touchpoint`'s payload, built without validating a model (the engine's output
    is trusted: it came from the validated read model). A unit test holds the two equal."""
    contact = touch.recipient
    if contact is not None:
        recipient = {"contact_id": contact.contact_id, "name": contact.name, "email": contact.email,
                     "phone": contact.phone, "locale": contact.locale or customer.locale,
                     "time_zone": contact.time_zone or customer.time_zone, "role": contact.role}
    else:
        recipient = {"contact_id": None, "name": customer.name, "email": None, "phone": None,
                     "locale": customer.locale, "time_zone": customer.time_zone, "role": None}
    stage_of, stage = touch.invoice_stages.get, touch.stage
    invoices = [{"invoice_id": i.invoice_id, "number": i.number, "issue_date": i.issue_date, "due_date": i.due_date,
                 "currency": i.currency, "amount_total": format(i.amount_total, "f"),
                 "open_amount": format(i.open_amount, "f"), "days_overdue": max(0, (today - i.due_date).days),
                 "pdf_url": i.pdf_url, "stage": stage_of(i.invoice_id, stage)} for i in touch.invoices]
    collector = ({"name": customer.collector, "email": customer.collector_email, "phone": None, "title": None}
                 if customer.collector else None)
    instalment = touch.instalment
    quiet = touch.quiet_hours
    return dumps({
        "touchpoint_id": touchpoint_id,
        "customer": {"customer_id": customer.customer_id, "external_id": customer.external_id, "name": customer.name,
                     "country": customer.country, "segment": customer.size},
        "recipient": recipient, "channel": touch.channel, "fallback_channels": touch.fallback_channels,
        "template_key": touch.template_key, "tone": touch.tone, "stage": touch.stage,
        "step_offset_days": touch.step_offset, "policy_id": policy.policy_id, "policy_version": policy.version,
        "currency": touch.currency, "total_open": format(touch.total_open, "f"), "invoices": invoices,
        "collector": collector, "send_not_before": touch.window.start, "send_not_after": touch.window.end,
        "early_pay_discount_percent": None, "promised_date": touch.promised_date,
        "instalment_due_date": instalment[0] if instalment else None,
        "instalment_amount": format(instalment[1], "f") if instalment else None,
        "internal_audience": touch.audience, "clock_offset_seconds": clock_offset_seconds,
        "quiet_hours_start": quiet[0] if quiet else None, "quiet_hours_end": quiet[1] if quiet else None,
    })


def stage_changed_data(customer_id: UUID, invoice_id: UUID, stage: str, at: datetime | None,
                       paused: str | None = None) -> bytes:
    """The JSON of :func:`stage_changed`'s payload, built directly (held equal by a unit test)."""
    return dumps({"customer_id": customer_id, "invoice_id": invoice_id, "stage": stage, "paused_reason": paused,
                  "last_touch_at": at})


def touchpoint(touchpoint_id: UUID, customer: Customer, touch: PlannedTouch, policy: Policy,
               today, now: datetime | None = None) -> TouchpointDueV1:
    contact = touch.recipient
    recipient = Recipient(
        contact_id=contact.contact_id if contact else None, name=contact.name if contact else customer.name,
        email=contact.email if contact else None, phone=contact.phone if contact else None,
        locale=(contact.locale if contact and contact.locale else customer.locale),
        time_zone=(contact.time_zone if contact and contact.time_zone else customer.time_zone),
        role=contact.role if contact else None,
    )
    invoices = [TouchInvoice(
        invoice_id=i.invoice_id, number=i.number, issue_date=i.issue_date, due_date=i.due_date,
        currency=i.currency, amount_total=i.amount_total, open_amount=i.open_amount,
        days_overdue=max(0, (today - i.due_date).days), pdf_url=i.pdf_url,
        stage=touch.invoice_stages.get(i.invoice_id, touch.stage),
    ) for i in touch.invoices]
    collector = Collector(name=customer.collector, email=customer.collector_email) if customer.collector else None
    return TouchpointDueV1(
        touchpoint_id=touchpoint_id,
        customer=CustomerRef(customer_id=customer.customer_id, external_id=customer.external_id,
                             name=customer.name, country=customer.country, segment=customer.size),
        recipient=recipient, channel=touch.channel, fallback_channels=touch.fallback_channels,
        template_key=touch.template_key, tone=touch.tone, stage=touch.stage, step_offset_days=touch.step_offset,
        policy_id=policy.policy_id, policy_version=policy.version, currency=touch.currency,
        total_open=touch.total_open, invoices=invoices, collector=collector,
        send_not_before=touch.window.start, send_not_after=touch.window.end,
        promised_date=touch.promised_date,
        instalment_due_date=touch.instalment[0] if touch.instalment else None,
        instalment_amount=touch.instalment[1] if touch.instalment else None,
        internal_audience=touch.audience,
        clock_offset_seconds=travelled(now),
        quiet_hours_start=touch.quiet_hours[0] if touch.quiet_hours else None,
        quiet_hours_end=touch.quiet_hours[1] if touch.quiet_hours else None,
    )


def travelled(now: datetime | None) -> float:
    """How far the scheduler's clock runs ahead of the wall clock (time travel), to the second."""
    return float(round((now - utcnow()).total_seconds())) if now else 0.0


def task_created(task_id: UUID, customer_id: UUID, task: PlannedTask, assignee: str | None,
                 priority: float, subject: tuple[str, UUID] | None = None) -> TaskCreatedV1:
    """``subject`` is the task's ``(subject_kind, subject_id)`` as stored on its row, when it has one."""
    return TaskCreatedV1(task_id=task_id, customer_id=customer_id, kind=task.kind, reason=task.reason,
                         invoice_ids=task.invoice_ids, assignee=assignee, priority_score=priority,
                         subject_kind=subject[0] if subject else None, subject_id=subject[1] if subject else None)


def stage_changed(customer_id: UUID, invoice_id: UUID, stage: str, at: datetime | None,
                  paused: str | None = None) -> DunningStageChangedV1:
    return DunningStageChangedV1(customer_id=customer_id, invoice_id=invoice_id, stage=stage,
                                 paused_reason=paused, last_touch_at=at)


def case_changed(case_id: UUID, customer_id: UUID, kind: str, status: str, invoice_ids: list[UUID],
                 **extra) -> CaseStatusChangedV1:
    return CaseStatusChangedV1(case_id=case_id, customer_id=customer_id, kind=kind, status=status,
                               invoice_ids=invoice_ids, **extra)
