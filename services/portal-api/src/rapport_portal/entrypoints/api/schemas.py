"""Request bodies of the portal API (validated here; bad input is a 422 naming the field)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ReasonCode = Literal["not_received", "wrong_amount", "wrong_items", "damaged", "duplicate", "already_paid",
                     "pricing", "tax", "other"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InvoiceListParams(BaseModel):
    """Query of ``GET /v1/invoices``, validated as one model (cheaper per request than six parameters)."""

    status: Literal["all", "open", "overdue", "paid"] = "all"
    q: str | None = Field(None, max_length=100, description="search in invoice and PO numbers")
    sort: Literal["due_date", "issue_date", "number", "amount", "open_amount"] = "due_date"
    order: Literal["asc", "desc"] = "asc"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class MagicLinkBody(Body):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SessionBody(Body):
    token: str = Field(min_length=10, max_length=2000)


class DisputeBody(Body):
    invoice_id: UUID
    reason_code: ReasonCode
    comment: str | None = Field(None, max_length=4000)
    document_ids: list[UUID] = Field(default_factory=list, max_length=10)


class PromiseBody(Body):
    invoice_ids: list[UUID] = Field(min_length=1, max_length=200)
    promised_date: date
    amount: Decimal | None = Field(None, gt=0, max_digits=18, decimal_places=4)


class InstalmentBody(Body):
    due_date: date
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4)


class PlanBody(Body):
    invoice_ids: list[UUID] = Field(min_length=1, max_length=200)
    instalments: list[InstalmentBody] = Field(min_length=1, max_length=60)


class CreditBody(Body):
    credit_note_id: UUID
    invoice_id: UUID
    amount: Decimal | None = Field(None, gt=0, max_digits=18, decimal_places=4)


class CheckoutBody(Body):
    invoice_ids: list[UUID] = Field(min_length=1, max_length=50)


class CallbackBody(Body):
    phone: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164")
    preferred_time: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=2000)


class PreferencesBody(Body):
    preferred_channel: Literal["email", "sms", "call"] | None = None
    locale: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    opted_out_channels: list[Literal["email", "sms", "call", "voice"]] = Field(default_factory=list)


class AdminLinkBody(Body):
    tenant_id: UUID
    contact_id: UUID


class PlanLimitsBody(Body):
    max_instalments: int = Field(ge=1, le=36)
    max_days: int = Field(ge=1, le=1095)
