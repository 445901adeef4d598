"""Topic ``customer`` (emitted by ingest): customers and their accounts-payable contacts."""
from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from rapport_shared.contracts.base import Amount, CurrencyCode, EventPayload

Channel = Literal["email", "sms", "call", "voice", "letter"]


class CustomerUpsertedV1(EventPayload):
    """A customer as the ledger now knows it (a full snapshot, not a diff)."""

    event_type: ClassVar[str] = "rapport.customer.upserted.v1"
    topic: ClassVar[str] = "customer"

    customer_id: UUID
    external_id: str
    name: str
    size: str | None = None
    industry: str | None = None
    region: str | None = None
    country: str | None = Field(None, description="ISO-3166 alpha-2")
    time_zone: str = "UTC"
    locale: str = "en"
    currency: CurrencyCode
    payment_terms_days: int = 30
    credit_limit: Amount | None = None
    tags: list[str] = []
    collector_id: str | None = None
    collector_name: str | None = None
    collector_email: str | None = None
    account_executive: str | None = None
    customer_success_owner: str | None = None
    version: int = Field(1, description="ledger version of this customer; consumers ignore older")


class ContactUpsertedV1(EventPayload):
    """An accounts-payable contact of a customer, with channel preferences and consent."""

    event_type: ClassVar[str] = "rapport.customer.contact_upserted.v1"
    topic: ClassVar[str] = "customer"

    contact_id: UUID
    customer_id: UUID
    external_id: str | None = None
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = Field(None, description="E.164")
    preferred_channel: Channel | None = None
    locale: str | None = None
    time_zone: str | None = None
    is_primary: bool = False
    consent_email: bool = True
    consent_sms: bool = False
    opted_out_channels: list[Channel] = []
    active: bool = True
    version: int = 1
