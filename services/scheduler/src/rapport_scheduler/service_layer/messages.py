"""Turning engine decisions into the integration events other services read."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from rapport_shared.bus.outbox import lane_of
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import Envelope, make_event
from rapport_shared.ids import new_id
from rapport_shared.time import utcnow
from rapport_shared.contracts.task import CaseStatusChangedV1, DunningStageChangedV1, TaskCreatedV1
from rapport_shared.contracts.touchpoint import Collector, CustomerRef, Recipient, TouchInvoice, TouchpointDueV1

from rapport_scheduler.domain.engine import PlannedTask, PlannedTouch
from rapport_scheduler.domain.model import Customer
from rapport_scheduler.domain.policy import Policy

SOURCE = "scheduler"


def event(payload, tenant_id: UUID, customer_id: UUID, now: datetime, cause: Envelope | None = None) -> Envelope:
    return make_event(payload, source=SOURCE, tenant_id=tenant_id, customer_key=customer_id, causation=cause, time=now)


OutboxRecord = tuple[UUID, str, str, int, bytes, bytes]


def outbox_record(topics: TopicNames, payload, tenant_id: UUID, customer_id: UUID, now: datetime,
                  cause=None) -> OutboxRecord:
    """The outbox row of ``make_event(payload, ...)``, serialised in one pass.

    The payload was validated when it was built and is dumped to JSON once; the envelope's
    attributes around it are formatted directly, so nothing is validated or serialised twice. The
    bytes decode to the envelope ``make_event`` would have made (a unit test holds this). ``cause`` is
    an envelope or anything else with its ``id`` and ``correlation_id``.
    """
    event_id = new_id()
    key = f"{tenant_id}:{customer_id}"
    correlation = cause.correlation_id if cause else event_id
    causation = f'"{cause.id}"' if cause else "null"
    # Every attribute is a UUID, an ISO timestamp or a fixed name: nothing needs JSON escaping.
    value = (f'{{"specversion":"1.0","id":"{event_id}","type":"{payload.event_type}","source":"{SOURCE}",'
             f'"time":"{now.isoformat()}","subject":null,"datacontenttype":"application/json",'
             f'"tenant_id":"{tenant_id}","correlation_id":"{correlation}","causation_id":{causation},'
             f'"partitionkey":"{key}","data":{payload.model_dump_json()}}}')
    raw_key = key.encode()
    return event_id, payload.event_type, topics(payload.topic), lane_of(raw_key), raw_key, value.encode()


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
        clock_offset_seconds=_travelled(now),
        quiet_hours_start=touch.quiet_hours[0] if touch.quiet_hours else None,
        quiet_hours_end=touch.quiet_hours[1] if touch.quiet_hours else None,
    )


def _travelled(now: datetime | None) -> float:
    """How far the scheduler's clock runs ahead of the wall clock (time travel), to the second."""
    return float(round((now - utcnow()).total_seconds())) if now else 0.0


def task_created(task_id: UUID, customer_id: UUID, task: PlannedTask, assignee: str | None,
                 priority: float) -> TaskCreatedV1:
    return TaskCreatedV1(task_id=task_id, customer_id=customer_id, kind=task.kind, reason=task.reason,
                         invoice_ids=task.invoice_ids, assignee=assignee, priority_score=priority)


def stage_changed(customer_id: UUID, invoice_id: UUID, stage: str, at: datetime | None,
                  paused: str | None = None) -> DunningStageChangedV1:
    return DunningStageChangedV1(customer_id=customer_id, invoice_id=invoice_id, stage=stage,
                                 paused_reason=paused, last_touch_at=at)


def case_changed(case_id: UUID, customer_id: UUID, kind: str, status: str, invoice_ids: list[UUID],
                 **extra) -> CaseStatusChangedV1:
    return CaseStatusChangedV1(case_id=case_id, customer_id=customer_id, kind=kind, status=status,
                               invoice_ids=invoice_ids, **extra)
