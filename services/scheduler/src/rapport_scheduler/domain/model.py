"""The scheduler's view of customers, contacts, invoices and plans (built from events)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

OPEN_STATUSES = frozenset({"open", "partially_paid"})


@dataclass
class Contact:
    contact_id: UUID
    name: str
    email: str | None = None
    phone: str | None = None
    preferred_channel: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    role: str | None = None
    is_primary: bool = False
    consent_email: bool = True
    consent_sms: bool = False
    opted_out: frozenset[str] = frozenset()
    active: bool = True

    def can_use(self, channel: str) -> bool:
        if not self.active or channel in self.opted_out:
            return False
        if channel == "email":
            return bool(self.email) and self.consent_email
        if channel == "sms":
            return bool(self.phone) and self.consent_sms
        return False


@dataclass
class Invoice:
    invoice_id: UUID
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount_total: Decimal
    open_amount: Decimal
    status: str = "open"
    stage_offset: int | None = None
    disputed: bool = False
    promise_until: date | None = None
    plan_id: UUID | None = None
    pdf_url: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES and self.open_amount > 0

    def in_cadence(self, today: date) -> bool:
        """Disputes, promises and plans take an invoice out of the regular cadence."""
        promised = self.promise_until is not None and today <= self.promise_until
        return self.is_open and not self.disputed and not promised and self.plan_id is None


@dataclass
class Instalment:
    due_date: date
    amount: Decimal
    reminded: bool = False


@dataclass
class Plan:
    plan_id: UUID
    invoice_ids: list[UUID]
    currency: str
    instalments: list[Instalment]


@dataclass
class Customer:
    customer_id: UUID
    name: str
    external_id: str | None = None
    country: str | None = None
    region: str | None = None
    industry: str | None = None
    size: str | None = None
    tags: list[str] = field(default_factory=list)
    time_zone: str = "UTC"
    locale: str = "en"
    risk_band: str | None = None
    hold: bool = False
    last_message_on: date | None = None
    replied_at: datetime | None = None
    broken_promises: int = 0
    collector: str | None = None
    collector_email: str | None = None
    contacts: list[Contact] = field(default_factory=list)

    def primary_contact(self) -> Contact | None:
        active = [c for c in self.contacts if c.active]
        return next((c for c in active if c.is_primary), active[0] if active else None)

    def open_balance(self, invoices: list[Invoice]) -> Decimal:
        return sum((i.open_amount for i in invoices if i.is_open), Decimal(0))
