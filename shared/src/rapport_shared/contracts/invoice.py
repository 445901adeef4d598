"""Topic ``invoice`` (emitted by ingest): invoices and credit notes, as full snapshots."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload

InvoiceStatus = Literal["open", "partially_paid", "paid", "void", "written_off", "credited"]
BalanceCause = Literal[
    "payment", "credit_note", "adjustment", "write_off", "void", "reversal", "refund", "erp_update"
]


class InvoiceState(EventPayload):
    """Everything a consumer needs to know about an invoice right now."""

    invoice_id: UUID
    customer_id: UUID
    customer_external_id: str | None = None
    number: str
    issue_date: date
    due_date: date
    currency: CurrencyCode
    amount_total: Amount
    tax_amount: Amount = Field(default=Decimal(0))
    open_amount: Amount
    status: InvoiceStatus
    po_number: str | None = None
    terms: str | None = None
    pdf_url: str | None = None
    paid_at: datetime | None = None
    version: int = Field(1, description="monotonic per invoice; consumers ignore older")


class InvoiceIssuedV1(InvoiceState):
    """An invoice entered the ledger for the first time."""

    event_type: ClassVar[str] = "rapport.invoice.issued.v1"
    topic: ClassVar[str] = "invoice"


class InvoiceUpdatedV1(InvoiceState):
    """The ERP changed an invoice's terms (due date, amount, PO...)."""

    event_type: ClassVar[str] = "rapport.invoice.updated.v1"
    topic: ClassVar[str] = "invoice"


class InvoiceBalanceChangedV1(InvoiceState):
    """The open amount or status changed through cash application, credit or adjustment."""

    event_type: ClassVar[str] = "rapport.invoice.balance_changed.v1"
    topic: ClassVar[str] = "invoice"

    cause: BalanceCause
    delta: Amount = Field(description="change of open_amount, negative when it went down")
    payment_id: UUID | None = None
    credit_note_id: UUID | None = None


class CreditNoteIssuedV1(EventPayload):
    """A credit note the customer may apply to invoices."""

    event_type: ClassVar[str] = "rapport.invoice.credit_note_issued.v1"
    topic: ClassVar[str] = "invoice"

    credit_note_id: UUID
    customer_id: UUID
    number: str
    issue_date: date
    currency: CurrencyCode
    amount: Amount
    unapplied_amount: Amount
    invoice_id: UUID | None = None
    reason: str | None = None
    version: int = 1
