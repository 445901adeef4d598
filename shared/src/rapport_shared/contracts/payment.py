"""Topic ``payment`` (emitted by ingest): money received, applied, refunded or reversed."""
from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload, Part

PaymentSource = Literal["erp", "stripe", "bank", "portal", "import", "manual"]


class Allocation(Part):
    invoice_id: UUID
    invoice_number: str
    amount: Amount


class PaymentReceivedV1(EventPayload):
    """A payment entered the ledger, with how cash application allocated it."""

    event_type: ClassVar[str] = "rapport.payment.received.v1"
    topic: ClassVar[str] = "payment"

    payment_id: UUID
    customer_id: UUID | None
    external_id: str | None = None
    amount: Amount
    currency: CurrencyCode
    received_on: date
    method: str | None = None
    reference: str | None = None
    source: PaymentSource = "erp"
    allocations: list[Allocation] = []
    unapplied_amount: Amount
    match_rule: str | None = None
    needs_review: bool = False
    review_reason: str | None = None


class PaymentReversedV1(EventPayload):
    """A payment was refunded or reversed (chargeback, bounced cheque)."""

    event_type: ClassVar[str] = "rapport.payment.reversed.v1"
    topic: ClassVar[str] = "payment"

    payment_id: UUID
    customer_id: UUID | None
    amount: Amount
    currency: CurrencyCode
    kind: Literal["refund", "reversal", "chargeback"]
    reason: str | None = None
    reversed_allocations: list[Allocation] = []
