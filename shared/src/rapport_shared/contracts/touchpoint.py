"""Topic ``touchpoint`` (emitted by scheduler): a consolidated message that is due now."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload, Part

TouchChannel = Literal["email", "sms", "call", "voice", "internal", "agency"]
Tone = Literal["friendly", "neutral", "firm", "final"]


class Recipient(Part):
    contact_id: UUID | None = None
    name: str
    email: str | None = None
    phone: str | None = None
    locale: str = "en"
    time_zone: str = "UTC"
    role: str | None = None


class TouchInvoice(Part):
    invoice_id: UUID
    number: str
    issue_date: date
    due_date: date
    currency: CurrencyCode
    amount_total: Amount
    open_amount: Amount
    days_overdue: int
    pdf_url: str | None = None
    stage: str | None = Field(
        None, description="the invoice's dunning stage as of this touchpoint (the event's time is also its last "
        "touch); the scheduler sends no separate DunningStageChangedV1 for it. Absent in events made before "
        "this field existed: read the touchpoint's own stage then")


class CustomerRef(Part):
    customer_id: UUID
    external_id: str | None = None
    name: str
    country: str | None = None
    segment: str | None = None


class Collector(Part):
    name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None


class TouchpointDueV1(EventPayload):
    """One message to one customer, listing every invoice it concerns (one currency).

    The scheduler guarantees at most one per customer per day; outreach guarantees it is
    sent at most once per channel.
    """

    event_type: ClassVar[str] = "rapport.touchpoint.due.v1"
    topic: ClassVar[str] = "touchpoint"

    touchpoint_id: UUID
    customer: CustomerRef
    recipient: Recipient
    channel: TouchChannel
    fallback_channels: list[TouchChannel] = []
    template_key: str
    tone: Tone
    stage: str
    step_offset_days: int
    policy_id: UUID | None = None
    policy_version: int | None = None
    currency: CurrencyCode
    total_open: Amount
    invoices: list[TouchInvoice]
    collector: Collector | None = None
    send_not_before: datetime | None = None
    send_not_after: datetime | None = None
    early_pay_discount_percent: Amount | None = None
    promised_date: date | None = None
    instalment_due_date: date | None = None
    instalment_amount: Amount | None = None
    internal_audience: list[str] = []
    clock_offset_seconds: float = Field(
        0.0,
        description="the scheduler's time-travel offset when it decided (0 in production); outreach "
        "shifts the send window by it so a demo's advanced clock and real sending agree",
    )
    quiet_hours_start: time | None = Field(
        None, description="local time (recipient's zone) from which nothing is sent until quiet_hours_end")
    quiet_hours_end: time | None = Field(None, description="local time the quiet hours end (next morning)")
