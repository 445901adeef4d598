"""Topic ``task`` (emitted by scheduler): worklist tasks and the state of promises, plans, disputes."""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload, Part

TaskKind = Literal[
    "call", "dispute", "broken_promise", "escalation", "uncertain_send", "plan_review",
    "callback", "review_payment", "agency_handoff", "bounced_contact",
]


class TaskCreatedV1(EventPayload):
    """A task for a human collector, with the reason it exists."""

    event_type: ClassVar[str] = "rapport.task.created.v1"
    topic: ClassVar[str] = "task"

    task_id: UUID
    customer_id: UUID
    kind: TaskKind
    reason: str
    invoice_ids: list[UUID] = []
    assignee: str | None = None
    priority_score: float = 0.0
    due_at: datetime | None = None
    # The one thing the task is about, when it is about one: ``message`` (an uncertain send's message id)
    # or ``plan`` (the payment plan to review). Absent on older events and on tasks about the account.
    subject_kind: str | None = None
    subject_id: UUID | None = None


class TaskClosedV1(EventPayload):
    event_type: ClassVar[str] = "rapport.task.closed.v1"
    topic: ClassVar[str] = "task"

    task_id: UUID
    customer_id: UUID
    outcome: str
    note: str | None = None


class DunningStageChangedV1(EventPayload):
    """The dunning stage of an invoice moved (for ERP read-back and the portal)."""

    event_type: ClassVar[str] = "rapport.task.dunning_stage_changed.v1"
    topic: ClassVar[str] = "task"

    customer_id: UUID
    invoice_id: UUID
    stage: str
    paused_reason: str | None = None
    last_touch_at: datetime | None = None


class PlanInstalment(Part):
    due_date: date
    amount: Amount


class CaseStatusChangedV1(EventPayload):
    """A dispute, promise-to-pay or payment plan changed status."""

    event_type: ClassVar[str] = "rapport.task.case_status_changed.v1"
    topic: ClassVar[str] = "task"

    case_id: UUID
    customer_id: UUID
    kind: Literal["dispute", "promise", "payment_plan"]
    status: Literal["open", "approved", "rejected", "kept", "broken", "resolved", "cancelled", "completed"]
    invoice_ids: list[UUID] = []
    note: str | None = None
    promised_date: date | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    instalments: list[PlanInstalment] = []
