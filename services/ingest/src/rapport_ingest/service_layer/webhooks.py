"""Payment-processor events turned into ledger changes (Stripe).

The checkout metadata written by the portal (``rapport_tenant_id``, ``rapport_customer_id``,
``rapport_invoice_ids``) links money to a tenant, a customer and invoices.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.time import Clock

from rapport_ingest.adapters import stripe_gateway as gateway
from rapport_ingest.domain.commands import ExplicitAllocation, RecordPayment, ReversePayment
from rapport_ingest.domain.errors import LedgerError
from rapport_ingest.domain.values import minor_unit_exponent
from rapport_ingest.service_layer.payments import record_payment, reverse_payment
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(int(amount)).scaleb(-minor_unit_exponent(currency.upper()))


async def handle_stripe_event(session: AsyncSession, event: dict[str, Any], outbox: Outbox, clock: Clock) -> str:
    """Apply one verified event once; returns what happened (kept on the event's row)."""
    if not await gateway.claim_event(session, event):
        return "duplicate"
    obj = event.get("data", {}).get("object", {})
    tenant_id = await _tenant(session, obj)
    handler = _HANDLERS.get(event.get("type", ""))
    if handler is None:
        outcome = "ignored: event type not used"
    elif tenant_id is None:
        outcome = "ignored: no rapport metadata"
    else:
        uow = UnitOfWork(session, tenant_id, outbox, clock)
        try:
            async with session.begin_nested():
                outcome = await handler(uow, obj, event)
        except LedgerError as exc:
            outcome = f"rejected: {exc}"
    await gateway.record_outcome(session, event["id"], outcome, tenant_id)
    return outcome


async def _tenant(session: AsyncSession, obj: dict[str, Any]) -> UUID | None:
    raw = (obj.get("metadata") or {}).get("rapport_tenant_id")
    if raw:
        try:
            return UUID(raw)
        except ValueError:
            return None
    intent = obj.get("payment_intent")
    return await gateway.tenant_of_payment(session, intent) if isinstance(intent, str) else None


async def _intent_succeeded(uow: UnitOfWork, obj: dict, event: dict) -> str:
    amount = obj.get("amount_received") or obj.get("amount") or 0
    return await _record(uow, obj["id"], amount, obj, event)


async def _charge_succeeded(uow: UnitOfWork, obj: dict, event: dict) -> str:
    amount = obj.get("amount_captured") or obj.get("amount") or 0
    return await _record(uow, obj.get("payment_intent") or obj["id"], amount, obj, event)


async def _checkout_completed(uow: UnitOfWork, obj: dict, event: dict) -> str:
    await uow.ledger.settle_pending(obj["id"])
    if obj.get("payment_status") != "paid":
        return "ignored: checkout not paid yet"
    return await _record(uow, obj.get("payment_intent") or obj["id"], obj.get("amount_total") or 0, obj, event)


async def _record(uow: UnitOfWork, external_id: str, minor: int, obj: dict, event: dict) -> str:
    """One payment per PaymentIntent, whichever of its events arrives first."""
    if await uow.ledger.payment_by_external(external_id) is not None:
        return f"duplicate of payment {external_id}"
    metadata = obj.get("metadata") or {}
    customer = await uow.ledger.customer_by_id(UUID(metadata["rapport_customer_id"])) if metadata.get("rapport_customer_id") else None
    if customer is None:
        return "ignored: unknown customer"
    currency = str(obj.get("currency", "")).upper()
    amount = from_minor(minor, currency)
    command = RecordPayment(
        external_id=external_id, amount=amount, currency=currency, method="stripe", reference=external_id,
        received_on=datetime.fromtimestamp(event.get("created") or uow.clock.now().timestamp(), timezone.utc).date(),
        allocations=await _allocations(uow, metadata.get("rapport_invoice_ids", ""), amount, currency),
    )
    payment, _ = await record_payment(uow, command, source="stripe", customer=customer)
    return f"payment {payment.id} recorded"


async def _allocations(uow: UnitOfWork, invoice_ids: str, amount: Decimal, currency: str) -> list[ExplicitAllocation]:
    """The invoices the customer chose in the portal, paid in the order listed."""
    result, left = [], amount
    for raw in filter(None, (part.strip() for part in invoice_ids.split(","))):
        try:
            invoice = await uow.ledger.invoice_by_id(UUID(raw))
        except ValueError:
            continue
        if invoice is None or invoice.open_amount <= 0 or left <= 0:
            continue
        take = min(left, invoice.open_amount) if invoice.currency == currency else invoice.open_amount
        result.append(ExplicitAllocation(invoice_number=invoice.number, amount=take))
        left -= take if invoice.currency == currency else 0
    return result


async def _charge_refunded(uow: UnitOfWork, obj: dict, event: dict) -> str:
    external_id = obj.get("payment_intent") or obj["id"]
    payment = await uow.ledger.payment_by_external(external_id)
    if payment is None:
        return "ignored: refund of an unknown payment"
    refunded = from_minor(obj.get("amount_refunded") or 0, payment.currency)
    delta = refunded - payment.refunded_amount
    if delta <= 0:
        return "ignored: refund already recorded"
    await reverse_payment(uow, external_id, ReversePayment(kind="refund", amount=delta, reason="stripe refund"))
    return f"refund of {delta} {payment.currency} recorded"


_HANDLERS = {
    "payment_intent.succeeded": _intent_succeeded, "charge.succeeded": _charge_succeeded,
    "checkout.session.completed": _checkout_completed, "charge.refunded": _charge_refunded,
}
