"""Event handlers: keep the read model current, then rescore the customer the event touched."""
from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts.customer import CustomerUpsertedV1
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.invoice import InvoiceState
from rapport_shared.contracts.outreach import (
    MessageClickedV1, MessageOpenedV1, MessageSentV1, ReplyReceivedV1,
)
from rapport_shared.contracts.payment import PaymentReceivedV1, PaymentReversedV1
from rapport_shared.contracts.portal import DisputeOpenedV1
from rapport_shared.contracts.task import CaseStatusChangedV1

from rapport_scoring.adapters import repository
from rapport_scoring.service_layer.rescoring import Rescorer

# The customer to rescore and the invoices the event changed (their predictions are redone).
Touched = tuple[UUID, list[UUID]]


def _segment(payload: CustomerUpsertedV1) -> str:
    """Customers are compared with peers of the same size, else of the same industry."""
    return payload.size or payload.industry or "default"


async def on_customer(session: AsyncSession, tenant_id: UUID, p: CustomerUpsertedV1) -> Touched | None:
    await repository.upsert_customer(session, tenant_id, {
        "customer_id": p.customer_id, "external_id": p.external_id, "name": p.name, "currency": p.currency,
        "segment": _segment(p), "collector_id": p.collector_id, "payment_terms_days": p.payment_terms_days,
        "version": p.version,
    })
    return None  # a new name or collector changes no prediction


async def on_invoice(session: AsyncSession, tenant_id: UUID, p: InvoiceState) -> Touched | None:
    stored = await repository.upsert_invoice(session, tenant_id, {
        "invoice_id": p.invoice_id, "customer_id": p.customer_id, "number": p.number, "issue_date": p.issue_date,
        "due_date": p.due_date, "currency": p.currency, "amount_total": p.amount_total,
        "open_amount": p.open_amount, "status": p.status, "paid_at": p.paid_at, "version": p.version,
    })
    return (p.customer_id, [p.invoice_id]) if stored else None


async def on_payment(session: AsyncSession, tenant_id: UUID, p: PaymentReceivedV1) -> Touched | None:
    parts = [(a.invoice_id, a.amount) for a in p.allocations]
    await repository.add_allocations(session, tenant_id, p.payment_id, p.received_on, parts)
    return (p.customer_id, [i for i, _ in parts]) if parts else None


async def on_reversal(session: AsyncSession, tenant_id: UUID, p: PaymentReversedV1) -> Touched | None:
    return p.customer_id, await repository.reverse_allocations(session, p.payment_id)


async def on_sent(session: AsyncSession, tenant_id: UUID, p: MessageSentV1) -> Touched | None:
    await repository.record_touch(session, tenant_id, {
        "message_id": p.message_id, "customer_id": p.customer_id, "channel": p.channel, "sent_at": p.occurred_at,
    })
    return p.customer_id, []


async def on_engaged(session: AsyncSession, tenant_id: UUID, p) -> Touched | None:
    await repository.mark_touch(session, tenant_id, p.message_id, p.customer_id, p.channel,
                                replied=isinstance(p, ReplyReceivedV1))
    return p.customer_id, []


async def on_dispute_opened(session: AsyncSession, tenant_id: UUID, p: DisputeOpenedV1) -> Touched | None:
    await repository.open_dispute(session, tenant_id, p.request_id, p.customer_id, p.invoice_id,
                                  p.requested_at.astimezone(timezone.utc).date())
    return p.customer_id, []  # the invoice's own prediction is made as of its issue day: only the customer's moves


async def on_case_status(session: AsyncSession, tenant_id: UUID, p: CaseStatusChangedV1,
                         at: datetime) -> Touched | None:
    """A dispute case that ended (resolved, rejected...) ends the dispute; other cases change nothing here."""
    if p.kind != "dispute" or p.status not in repository.DISPUTE_ENDS:
        return None
    await repository.resolve_dispute(session, tenant_id, p.case_id, p.customer_id, list(p.invoice_ids),
                                     at.astimezone(timezone.utc).date())
    return p.customer_id, []


HANDLERS = {
    CustomerUpsertedV1: on_customer,
    PaymentReceivedV1: on_payment,
    PaymentReversedV1: on_reversal,
    MessageSentV1: on_sent,
    MessageOpenedV1: on_engaged,
    MessageClickedV1: on_engaged,
    ReplyReceivedV1: on_engaged,
    DisputeOpenedV1: on_dispute_opened,
}


async def handle(session: AsyncSession, envelope: Envelope, rescorer: Rescorer) -> None:
    """Other event types on our topics (contacts, credit notes, bounces...) change nothing here."""
    payload = envelope.payload()
    if isinstance(payload, CaseStatusChangedV1):
        touched = await on_case_status(session, envelope.tenant_id, payload, envelope.time)
    else:
        handler = on_invoice if isinstance(payload, InvoiceState) else HANDLERS.get(type(payload))
        if handler is None:
            return
        touched = await handler(session, envelope.tenant_id, payload)
    if touched is not None:
        await rescorer.rescore(session, envelope.tenant_id, touched[0], envelope, touched[1])
