"""What callers ask the ledger to do, validated field by field (the API and the import share these)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from rapport_ingest.domain import values

Currency = Annotated[str, BeforeValidator(values.currency_code)]
Money = Annotated[Decimal, BeforeValidator(values.amount)]
PositiveMoney = Annotated[Decimal, BeforeValidator(lambda v: values.amount(v, allow_zero=False))]
Day = Annotated[date, BeforeValidator(values.calendar_date)]
Channel = Literal["email", "sms", "call", "voice", "letter"]


class Command(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Collector(Command):
    id: str | None = None
    name: str | None = None
    email: str | None = None


class UpsertCustomer(Command):
    name: str = Field(min_length=1)
    currency: Currency
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    time_zone: str = "UTC"
    locale: str = "en"
    payment_terms_days: int = Field(30, ge=0, le=3650)
    size: str | None = None
    industry: str | None = None
    region: str | None = None
    tags: list[str] = []
    credit_limit: Money | None = None
    collector: Collector | None = None
    account_executive: str | None = None
    customer_success_owner: str | None = None
    updated_at: datetime | None = None


class UpsertContact(Command):
    name: str = Field(min_length=1)
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, pattern=r"^\+[1-9]\d{6,14}$")
    role: str | None = None
    preferred_channel: Channel | None = None
    locale: str | None = None
    time_zone: str | None = None
    is_primary: bool = False
    consent_email: bool = True
    consent_sms: bool = False
    opted_out_channels: list[Channel] = []


class InvoiceLine(Command):
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: Money | None = None
    amount: Money | None = None


class UpsertInvoice(Command):
    customer_external_id: str = Field(min_length=1)
    issue_date: Day
    due_date: Day
    currency: Currency
    amount: Money
    tax_amount: Money = Decimal(0)
    po_number: str | None = None
    terms: str | None = None
    pdf_url: str | None = None
    lines: list[InvoiceLine] = []
    updated_at: datetime | None = None

    @field_validator("due_date")
    @classmethod
    def _due_after_issue(cls, due: date, info: ValidationInfo) -> date:
        issue = info.data.get("issue_date")
        if issue is not None:
            values.due_not_before_issue(issue, due)
        return due

    def content(self) -> dict[str, Any]:
        """What makes two submissions of one invoice number 'the same invoice'."""
        return self.model_dump(mode="json", exclude={"updated_at"})


class CreateInvoice(UpsertInvoice):
    number: str = Field(min_length=1, max_length=100)


class ExplicitAllocation(Command):
    invoice_number: str
    amount: PositiveMoney


class RecordPayment(Command):
    external_id: str = Field(min_length=1)
    customer_external_id: str | None = None
    amount: PositiveMoney
    currency: Currency
    received_on: Day
    method: str | None = None
    reference: str | None = None
    remittance_text: str | None = None
    allocations: list[ExplicitAllocation] = []


class IssueCreditNote(Command):
    number: str = Field(min_length=1)
    customer_external_id: str = Field(min_length=1)
    issue_date: Day
    currency: Currency
    amount: PositiveMoney
    invoice_number: str | None = Field(None, description="apply it to this invoice at once")
    reason: str | None = None


class ApplyCreditNote(Command):
    invoice_number: str
    amount: PositiveMoney | None = None


class Adjust(Command):
    kind: Literal["write_off", "void"]
    amount: PositiveMoney | None = None
    reason: str | None = None


class ReversePayment(Command):
    kind: Literal["refund", "reversal", "chargeback"] = "reversal"
    amount: PositiveMoney | None = Field(None, description="default: everything not yet reversed")
    reason: str | None = None
