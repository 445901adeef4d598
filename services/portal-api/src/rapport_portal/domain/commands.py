"""What a contact can ask for through the portal (imperative; each becomes a ``portal`` event)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from rapport_portal.domain.plans import Instalment


@dataclass(frozen=True)
class UploadDocument:
    filename: str | None
    content: bytes


@dataclass(frozen=True)
class OpenDispute:
    invoice_id: UUID
    reason_code: str
    comment: str | None
    document_ids: list[UUID]


@dataclass(frozen=True)
class PromiseToPay:
    invoice_ids: list[UUID]
    promised_date: date
    amount: Decimal | None


@dataclass(frozen=True)
class RequestPlan:
    invoice_ids: list[UUID]
    instalments: list[Instalment]


@dataclass(frozen=True)
class ApplyCredit:
    credit_note_id: UUID
    invoice_id: UUID
    amount: Decimal | None


@dataclass(frozen=True)
class PayInvoices:
    invoice_ids: list[UUID]
    success_url: str | None = None
    cancel_url: str | None = None


@dataclass(frozen=True)
class RequestCallback:
    phone: str | None
    preferred_time: str | None
    note: str | None


@dataclass(frozen=True)
class SetPreferences:
    preferred_channel: str | None
    locale: str | None
    opted_out_channels: list[str]
