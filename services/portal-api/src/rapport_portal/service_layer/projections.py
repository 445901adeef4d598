"""Builds the read model from other services' events (one transaction per event, via the runner)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts import customer as cu, invoice as iv, outreach as ou, payment as pa, task as ta
from rapport_shared.contracts import touchpoint as tp
from rapport_shared.contracts.envelope import Envelope

from rapport_portal.adapters import read_model as rm

Projection = Callable[[AsyncSession, Envelope, object], Awaitable[None]]


async def _customer(session: AsyncSession, env: Envelope, p: cu.CustomerUpsertedV1) -> None:
    await rm.upsert_customer(session, dict(
        tenant_id=env.tenant_id, customer_id=p.customer_id, name=p.name, currency=p.currency,
        locale=p.locale, time_zone=p.time_zone, version=p.version,
    ))


async def _contact(session: AsyncSession, env: Envelope, p: cu.ContactUpsertedV1) -> None:
    await rm.upsert_contact(session, dict(
        tenant_id=env.tenant_id, contact_id=p.contact_id, customer_id=p.customer_id, name=p.name,
        email=p.email.strip().lower() if p.email else None, phone=p.phone,
        preferred_channel=p.preferred_channel, locale=p.locale,
        opted_out_channels=list(p.opted_out_channels), active=p.active, version=p.version,
    ))


async def _invoice(session: AsyncSession, env: Envelope, p: iv.InvoiceState) -> None:
    await rm.upsert_invoice(session, dict(
        tenant_id=env.tenant_id, invoice_id=p.invoice_id, customer_id=p.customer_id, number=p.number,
        issue_date=p.issue_date, due_date=p.due_date, currency=p.currency, amount_total=p.amount_total,
        tax_amount=p.tax_amount, open_amount=p.open_amount, status=p.status, po_number=p.po_number,
        terms=p.terms, pdf_url=p.pdf_url, paid_at=p.paid_at, version=p.version,
    ))


async def _balance_changed(session: AsyncSession, env: Envelope, p: iv.InvoiceBalanceChangedV1) -> None:
    await _invoice(session, env, p)
    if p.credit_note_id and p.delta < 0:
        await rm.consume_credit(session, env.tenant_id, p.credit_note_id, -p.delta)


async def _credit_note(session: AsyncSession, env: Envelope, p: iv.CreditNoteIssuedV1) -> None:
    await rm.upsert_credit_note(session, dict(
        tenant_id=env.tenant_id, credit_note_id=p.credit_note_id, customer_id=p.customer_id,
        number=p.number, issue_date=p.issue_date, currency=p.currency, amount=p.amount,
        unapplied_amount=p.unapplied_amount, reason=p.reason, version=p.version,
    ))


async def _payment(session: AsyncSession, env: Envelope, p: pa.PaymentReceivedV1) -> None:
    if p.customer_id is None:  # unidentified cash: nothing to show any customer yet
        return
    await rm.record_payment(session, dict(
        tenant_id=env.tenant_id, payment_id=p.payment_id, customer_id=p.customer_id, amount=p.amount,
        currency=p.currency, received_on=p.received_on, reference=p.reference, source=p.source,
        allocations=[a.model_dump(mode="json") for a in p.allocations],
    ))
    await _interaction(session, env, p.customer_id, "payment_received",
                       f"Payment of {p.amount} {p.currency} received", p.payment_id)


async def _reversal(session: AsyncSession, env: Envelope, p: pa.PaymentReversedV1) -> None:
    if p.customer_id is None:
        return
    await rm.reverse_payment(session, env.tenant_id, p.payment_id, p.amount, env.time.date())
    await _interaction(session, env, p.customer_id, f"payment_{p.kind}",
                       f"Payment {p.kind}: {p.amount} {p.currency}", p.payment_id)


def _message_row(env: Envelope, p: ou.MessageOutcome) -> dict:
    return dict(tenant_id=env.tenant_id, message_id=p.message_id, customer_id=p.customer_id,
                contact_id=p.contact_id, channel=p.channel, template_key=p.template_key,
                invoice_ids=[str(i) for i in p.invoice_ids])


async def _sent(session: AsyncSession, env: Envelope, p: ou.MessageSentV1) -> None:
    await rm.record_message(session, _message_row(env, p) | dict(
        subject=p.subject, preview=p.preview, sent_at=p.occurred_at, status="sent", status_at=p.occurred_at,
    ))


def _status(name: str) -> Projection:
    async def project(session: AsyncSession, env: Envelope, p: ou.MessageOutcome) -> None:
        if p.channel in ("internal", "agency"):  # not a message to the customer
            return
        await rm.update_message_status(session, _message_row(env, p), name, p.occurred_at)
    return project


async def _reply(session: AsyncSession, env: Envelope, p: ou.ReplyReceivedV1) -> None:
    summary = f"You replied by {p.channel}" + (f": {p.body_excerpt[:200]}" if p.body_excerpt else "")
    await _interaction(session, env, p.customer_id, "reply", summary, p.message_id)


async def _case(session: AsyncSession, env: Envelope, p: ta.CaseStatusChangedV1) -> None:
    kind = {"payment_plan": "plan"}.get(p.kind, p.kind)
    await rm.update_case(session, env.tenant_id, p.customer_id, p.case_id, kind,
                         [str(i) for i in p.invoice_ids], p.status, p.note, env.time)
    await _interaction(session, env, p.customer_id, f"{kind}_{p.status}",
                       f"Your {p.kind.replace('_', ' ')} is now {p.status}", p.case_id)


async def _stage(session: AsyncSession, env: Envelope, p: ta.DunningStageChangedV1) -> None:
    await rm.set_dunning_stage(session, env.tenant_id, p.invoice_id, p.paused_reason or p.stage, env.time,
                               p.last_touch_at)


async def _touchpoint(session: AsyncSession, env: Envelope, p: tp.TouchpointDueV1) -> None:
    """The scheduler sends no stage event for the invoices a touchpoint lists: it says their stage (events
    made before the per-invoice stage existed: the touchpoint's own), and they were touched at its time."""
    for invoice in p.invoices:
        await rm.set_dunning_stage(session, env.tenant_id, invoice.invoice_id, invoice.stage or p.stage, env.time,
                                   env.time)


async def _interaction(session: AsyncSession, env: Envelope, customer_id, kind: str, summary: str, ref) -> None:
    await rm.add_interaction(session, dict(
        event_id=env.id, tenant_id=env.tenant_id, customer_id=customer_id, occurred_at=env.time,
        kind=kind, summary=summary, ref_id=ref,
    ))


PROJECTIONS: dict[str, Projection] = {
    cu.CustomerUpsertedV1.event_type: _customer,
    cu.ContactUpsertedV1.event_type: _contact,
    iv.InvoiceIssuedV1.event_type: _invoice,
    iv.InvoiceUpdatedV1.event_type: _invoice,
    iv.InvoiceBalanceChangedV1.event_type: _balance_changed,
    iv.CreditNoteIssuedV1.event_type: _credit_note,
    pa.PaymentReceivedV1.event_type: _payment,
    pa.PaymentReversedV1.event_type: _reversal,
    ou.MessageSentV1.event_type: _sent,
    ou.MessageDeliveredV1.event_type: _status("delivered"),
    ou.MessageOpenedV1.event_type: _status("opened"),
    ou.MessageClickedV1.event_type: _status("clicked"),
    ou.MessageBouncedV1.event_type: _status("bounced"),
    ou.MessageFailedV1.event_type: _status("failed"),
    ou.ReplyReceivedV1.event_type: _reply,
    ta.CaseStatusChangedV1.event_type: _case,
    ta.DunningStageChangedV1.event_type: _stage,
    tp.TouchpointDueV1.event_type: _touchpoint,
}


async def project(session: AsyncSession, envelope: Envelope) -> None:
    """Apply one event to the read model; events the portal does not show are ignored."""
    projection = PROJECTIONS.get(envelope.type)
    if projection is not None:
        await projection(session, envelope, envelope.payload())
