"""A request to a payment processor for a hosted checkout page, and what it answers."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class CheckoutRequest:
    request_id: UUID
    tenant_id: UUID
    customer_id: UUID
    currency: str
    lines: list[tuple[str, int]]  # (label, minor units)
    invoice_ids: list[UUID]
    customer_email: str | None
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
