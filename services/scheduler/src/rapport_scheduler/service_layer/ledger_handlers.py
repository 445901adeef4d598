"""Handlers for the ledger's events (customers, contacts, invoices, payments) and scores.

Each returns True when the customer's plan must be re-decided at once. The bus has already locked the
customer's timer and created a placeholder customer if the event came before the customer's own.
"""
from __future__ import annotations

from rapport_shared.contracts import customer as cc, invoice as ic, payment as pc, score as sc

from rapport_scheduler.adapters import readmodel, worklist as work_store
from rapport_scheduler.domain.model import OPEN_STATUSES
from rapport_scheduler.service_layer import messages
from rapport_scheduler.service_layer.context import Ctx


async def customer_upserted(ctx: Ctx, e: cc.CustomerUpsertedV1) -> bool:
    collector, email = e.collector_name or e.collector_id, e.collector_email  # none: the assignment rules decide
    await readmodel.upsert_customer(ctx.session, {
        "tenant_id": ctx.tenant_id, "customer_id": e.customer_id, "name": e.name, "external_id": e.external_id,
        "country": e.country, "region": e.region, "industry": e.industry, "size": e.size, "tags": e.tags,
        "time_zone": e.time_zone, "locale": e.locale, "currency": e.currency, "collector": collector,
        "collector_email": email, "account_executive": e.account_executive,
        "customer_success": e.customer_success_owner, "version": e.version})
    return True


async def contact_upserted(ctx: Ctx, e: cc.ContactUpsertedV1) -> bool:
    await readmodel.upsert_contact(ctx.session, {
        "tenant_id": ctx.tenant_id, "contact_id": e.contact_id, "customer_id": e.customer_id, "name": e.name,
        "email": e.email, "phone": e.phone, "preferred_channel": e.preferred_channel, "locale": e.locale,
        "time_zone": e.time_zone, "role": e.role, "is_primary": e.is_primary, "consent_email": e.consent_email,
        "consent_sms": e.consent_sms, "opted_out": list(e.opted_out_channels), "active": e.active,
        "version": e.version})
    return True


async def invoice_changed(ctx: Ctx, e: ic.InvoiceState) -> bool:
    applied = await readmodel.upsert_invoice(ctx.session, {
        "tenant_id": ctx.tenant_id, "invoice_id": e.invoice_id, "customer_id": e.customer_id, "number": e.number,
        "issue_date": e.issue_date, "due_date": e.due_date, "currency": e.currency,
        "amount_total": e.amount_total, "open_amount": e.open_amount, "status": e.status,
        "pdf_url": e.pdf_url, "version": e.version})
    if applied and is_settled(e):
        await settled(ctx, e)
    return applied


def is_settled(e: ic.InvoiceState) -> bool:
    return e.status not in OPEN_STATUSES or e.open_amount <= 0


async def settled(ctx: Ctx, e: ic.InvoiceState) -> None:
    """A settled invoice leaves the cadence; a promise on it was kept; its stage says why."""
    for case_id, ids in await work_store.close_cases(ctx.session, ctx.tenant_id, e.customer_id, "promise", "kept", e.invoice_id):
        await ctx.emit(messages.case_changed(case_id, e.customer_id, "promise", "kept", ids), e.customer_id)
    await readmodel.update_invoices(ctx.session, ctx.tenant_id, [e.invoice_id], stage=e.status, promise_until=None)
    await ctx.emit(messages.stage_changed(e.customer_id, e.invoice_id, e.status, None, paused=e.status), e.customer_id)


async def credit_note(ctx: Ctx, e: ic.CreditNoteIssuedV1) -> bool:
    await ctx.note(e.customer_id, "credit_note", f"credit note {e.number}: {e.amount} {e.currency}", e.credit_note_id)
    return False


async def payment_received(ctx: Ctx, e: pc.PaymentReceivedV1) -> bool:
    if e.customer_id is None:
        return False  # unapplied cash of an unknown customer: ingest's review queue, not ours
    for allocation in e.allocations:
        await readmodel.apply_allocation(ctx.session, ctx.tenant_id, allocation.invoice_id, allocation.amount)
    numbers = ", ".join(a.invoice_number for a in e.allocations) or "unapplied"
    await ctx.note(e.customer_id, "payment", f"payment {e.amount} {e.currency} received ({numbers})", e.payment_id)
    return True


async def payment_reversed(ctx: Ctx, e: pc.PaymentReversedV1) -> bool:
    if e.customer_id is None:
        return False
    for allocation in e.reversed_allocations:
        await readmodel.apply_allocation(ctx.session, ctx.tenant_id, allocation.invoice_id, -allocation.amount)
    await ctx.note(e.customer_id, "payment", f"payment {e.amount} {e.currency} {e.kind}: {e.reason or ''}", e.payment_id)
    await ctx.task(e.customer_id, "review_payment", f"payment {e.kind} of {e.amount} {e.currency}",
                   [a.invoice_id for a in e.reversed_allocations])
    return True


async def customer_scored(ctx: Ctx, e: sc.CustomerScoredV1) -> bool:
    await readmodel.update_customer(ctx.session, ctx.tenant_id, e.customer_id, risk_band=e.risk_band)
    return True


HANDLERS = {
    cc.CustomerUpsertedV1: customer_upserted,
    cc.ContactUpsertedV1: contact_upserted,
    ic.InvoiceIssuedV1: invoice_changed,
    ic.InvoiceUpdatedV1: invoice_changed,
    ic.InvoiceBalanceChangedV1: invoice_changed,
    ic.CreditNoteIssuedV1: credit_note,
    pc.PaymentReceivedV1: payment_received,
    pc.PaymentReversedV1: payment_reversed,
    sc.CustomerScoredV1: customer_scored,
}

NO_DECISION = frozenset({ic.CreditNoteIssuedV1})
# Invoice snapshots: the bus records them with one statement (readmodel.invoice_event), then ``settled``.
INVOICE_STATES = frozenset({ic.InvoiceIssuedV1, ic.InvoiceUpdatedV1, ic.InvoiceBalanceChangedV1})
