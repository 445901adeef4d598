"""Topic ``portal`` (emitted by portal-api): what a customer asked for through the portal."""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload, Part


class PortalRequest(EventPayload):
    request_id: UUID
    customer_id: UUID
    contact_id: UUID | None = None
    requested_at: datetime


class DisputeDocument(Part):
    document_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


class DisputeOpenedV1(PortalRequest):
    event_type: ClassVar[str] = "rapport.portal.dispute_opened.v1"
    topic: ClassVar[str] = "portal"

    invoice_id: UUID
    reason_code: Literal[
        "not_received", "wrong_amount", "wrong_items", "damaged", "duplicate", "already_paid",
        "pricing", "tax", "other",
    ]
    comment: str | None = None
    documents: list[DisputeDocument] = []


class PromiseToPayMadeV1(PortalRequest):
    event_type: ClassVar[str] = "rapport.portal.promise_made.v1"
    topic: ClassVar[str] = "portal"

    invoice_ids: list[UUID]
    promised_date: date
    amount: Amount
    currency: CurrencyCode


class PlanInstalmentRequest(Part):
    due_date: date
    amount: Amount


class PaymentPlanRequestedV1(PortalRequest):
    event_type: ClassVar[str] = "rapport.portal.plan_requested.v1"
    topic: ClassVar[str] = "portal"

    plan_id: UUID
    invoice_ids: list[UUID]
    currency: CurrencyCode
    instalments: list[PlanInstalmentRequest]
    auto_approved: bool


class CreditApplicationRequestedV1(PortalRequest):
    event_type: ClassVar[str] = "rapport.portal.credit_application_requested.v1"
    topic: ClassVar[str] = "portal"

    credit_note_id: UUID
    invoice_id: UUID
    amount: Amount
    currency: CurrencyCode


class PaymentInitiatedV1(PortalRequest):
    """A checkout session was created; the payment is confirmed only by the processor's webhook."""

    event_type: ClassVar[str] = "rapport.portal.payment_initiated.v1"
    topic: ClassVar[str] = "portal"

    checkout_session_id: str
    invoice_ids: list[UUID]
    amount: Amount
    currency: CurrencyCode


class CallbackRequestedV1(PortalRequest):
    event_type: ClassVar[str] = "rapport.portal.callback_requested.v1"
    topic: ClassVar[str] = "portal"

    phone: str | None = None
    preferred_time: str | None = None
    note: str | None = None


class ContactPreferencesChangedV1(PortalRequest):
    event_type: ClassVar[str] = "rapport.portal.preferences_changed.v1"
    topic: ClassVar[str] = "portal"

    preferred_channel: Literal["email", "sms", "call"] | None = None
    locale: str | None = None
    opted_out_channels: list[Literal["email", "sms", "call", "voice"]] = []


class MagicLinkRequestedV1(PortalRequest):
    """A contact asked for a sign-in link; outreach delivers it (the portal never reveals if it exists)."""

    event_type: ClassVar[str] = "rapport.portal.magic_link_requested.v1"
    topic: ClassVar[str] = "portal"

    email: str
    link_url: str
    locale: str = "en"
    expires_at: datetime
