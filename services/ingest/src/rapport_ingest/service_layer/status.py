"""What the other services said about a customer or invoice, kept for the ERP's status read-back,
and the portal requests that change the ledger."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, cast, func, or_
from sqlalchemy.dialects.postgresql import JSONB, insert as pg_insert

from rapport_shared.contracts import portal, score, task, touchpoint
from rapport_shared.contracts.base import EventPayload
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.outreach import MessageSentV1

from rapport_ingest.adapters.orm import account_status
from rapport_ingest.service_layer.credit_notes import apply_credit_note
from rapport_ingest.service_layer.unit_of_work import UnitOfWork


async def on_event(uow: UnitOfWork, envelope: Envelope) -> None:
    """Dispatch one consumed event; types that say nothing to the ledger are ignored."""
    payload = envelope.payload()
    handler = _HANDLERS.get(type(payload))
    if handler is not None:
        await handler(uow, payload, envelope)


async def _note(uow: UnitOfWork, customer_id: UUID, invoice_ids: list[UUID], facts: dict[str, Any]) -> None:
    await uow.ledger.merge_status(customer_id, "customer", facts)
    for invoice_id in invoice_ids:
        await uow.ledger.merge_status(invoice_id, "invoice", facts)


def _json(payload: EventPayload, *fields: str) -> dict[str, Any]:
    return payload.model_dump(mode="json", include=set(fields))


async def _dunning_fact(uow: UnitOfWork, subject_id: UUID, kind: str, fact: dict[str, Any]) -> None:
    """Merge a ``dunning`` fact unless the subject already holds a newer one (``as_of``, the scheduler's time).

    Stage events (``task`` topic) and touchpoints (``touchpoint`` topic) share a record key but not a topic,
    so either can arrive first: the older never overwrites the newer. Keys absent from ``fact`` keep their
    value (a pause keeps the last touch). One statement: the conflicting row is locked while it is compared.
    """
    statement = pg_insert(account_status).values(tenant_id=uow.ledger.tenant_id, subject_id=subject_id,
                                                 subject_kind=kind, facts={"dunning": fact})
    held, incoming = account_status.c.facts["dunning"], statement.excluded.facts["dunning"]
    held_as_of = held["as_of"].astext
    await uow.session.execute(statement.on_conflict_do_update(
        index_elements=[account_status.c.tenant_id, account_status.c.subject_id],
        set_={"facts": account_status.c.facts.op("||")(func.jsonb_build_object(
            "dunning", func.coalesce(held, cast({}, JSONB)).op("||")(incoming)))},
        where=or_(held_as_of.is_(None),
                  cast(held_as_of, DateTime(timezone=True)) <= cast(incoming["as_of"].astext, DateTime(timezone=True)))))


async def _dunning(uow: UnitOfWork, p: task.DunningStageChangedV1, e: Envelope) -> None:
    fact = {"stage": p.stage, "paused_reason": p.paused_reason, "as_of": e.time.isoformat()}
    if p.last_touch_at is not None:
        fact["last_touch_at"] = p.last_touch_at.isoformat()
    await _dunning_fact(uow, p.customer_id, "customer", fact)
    await _dunning_fact(uow, p.invoice_id, "invoice", fact)


async def _case(uow: UnitOfWork, p: task.CaseStatusChangedV1, e: Envelope) -> None:
    facts = _json(p, "case_id", "status", "promised_date", "amount", "currency", "instalments", "note")
    await _note(uow, p.customer_id, p.invoice_ids, {p.kind: facts})


async def _customer_score(uow: UnitOfWork, p: score.CustomerScoredV1, e: Envelope) -> None:
    await _note(uow, p.customer_id, [], {"score": _json(p, "risk_band", "late_probability", "delinquency", "scored_at")})


async def _invoice_score(uow: UnitOfWork, p: score.InvoiceScoredV1, e: Envelope) -> None:
    await uow.ledger.merge_status(p.invoice_id, "invoice", {"score": _json(p, "late_probability", "predicted_pay_date", "scored_at")})


async def _sent(uow: UnitOfWork, p: MessageSentV1, e: Envelope) -> None:
    touch = {"at": p.occurred_at.isoformat(), "channel": p.channel, "template_key": p.template_key, "subject": p.subject}
    await _note(uow, p.customer_id, p.invoice_ids, {"last_touch": touch})


async def _touch_due(uow: UnitOfWork, p: touchpoint.TouchpointDueV1, e: Envelope) -> None:
    """The touchpoint says each listed invoice's stage (older events: its own stage) and that it was touched at
    the event's time; the scheduler sends no separate stage event for those invoices."""
    at = e.time.isoformat()
    touch = {"paused_reason": None, "last_touch_at": at, "as_of": at, "tone": p.tone, "channel": p.channel}
    await _dunning_fact(uow, p.customer.customer_id, "customer", {"stage": p.stage, **touch})
    for invoice in p.invoices:
        await _dunning_fact(uow, invoice.invoice_id, "invoice", {"stage": invoice.stage or p.stage, **touch})


async def _dispute(uow: UnitOfWork, p: portal.DisputeOpenedV1, e: Envelope) -> None:
    await _note(uow, p.customer_id, [p.invoice_id], {"dispute": {"status": "open", "reason_code": p.reason_code,
                                                                 "requested_at": p.requested_at.isoformat()}})


async def _promise(uow: UnitOfWork, p: portal.PromiseToPayMadeV1, e: Envelope) -> None:
    await _note(uow, p.customer_id, p.invoice_ids, {"promise": {"status": "open", **_json(p, "promised_date", "amount", "currency")}})


async def _plan(uow: UnitOfWork, p: portal.PaymentPlanRequestedV1, e: Envelope) -> None:
    status = "approved" if p.auto_approved else "requested"
    await _note(uow, p.customer_id, p.invoice_ids, {"payment_plan": {"status": status, **_json(p, "plan_id", "instalments")}})


async def _credit(uow: UnitOfWork, p: portal.CreditApplicationRequestedV1, e: Envelope) -> None:
    """The customer asked to use a credit note on an invoice: apply it if the ledger agrees."""
    note = await uow.ledger.credit_note(credit_note_id=p.credit_note_id)
    invoice = await uow.ledger.invoice_by_id(p.invoice_id, lock=True)
    if note is None or invoice is None or note.customer_id != p.customer_id:
        await _note(uow, p.customer_id, [], {"credit_request": {"status": "rejected", "reason": "unknown credit note or invoice"}})
        return
    amount = min(p.amount, note.unapplied_amount, invoice.open_amount)
    if amount <= 0 or p.currency != note.currency:
        await _note(uow, p.customer_id, [p.invoice_id], {"credit_request": {"status": "rejected", "reason": "no credit left or currency mismatch"}})
        return
    await apply_credit_note(uow, note, invoice, amount)


async def _payment_initiated(uow: UnitOfWork, p: portal.PaymentInitiatedV1, e: Envelope) -> None:
    """Information only: the money counts when the processor's webhook confirms it."""
    await uow.ledger.add_pending_payment({
        "checkout_session_id": p.checkout_session_id, "customer_id": p.customer_id,
        "invoice_ids": p.invoice_ids, "amount": p.amount, "currency": p.currency,
    })


_HANDLERS = {
    task.DunningStageChangedV1: _dunning, task.CaseStatusChangedV1: _case,
    score.CustomerScoredV1: _customer_score, score.InvoiceScoredV1: _invoice_score,
    MessageSentV1: _sent, touchpoint.TouchpointDueV1: _touch_due,
    portal.DisputeOpenedV1: _dispute, portal.PromiseToPayMadeV1: _promise, portal.PaymentPlanRequestedV1: _plan,
    portal.CreditApplicationRequestedV1: _credit, portal.PaymentInitiatedV1: _payment_initiated,
}
