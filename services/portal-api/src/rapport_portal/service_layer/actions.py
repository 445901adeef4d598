"""What a contact can do: each action commits its state, an audit row and a ``portal`` event together."""
from __future__ import annotations

import hashlib
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.contracts import portal as ev
from rapport_shared.ids import new_id

from rapport_portal.adapters import portal_state, queries
from rapport_portal.domain import commands as cmd
from rapport_portal.domain.account import is_open
from rapport_portal.domain.errors import Conflict, Invalid, NotFound
from rapport_portal.domain.plans import PlanLimits, check_plan
from rapport_portal.domain.uploads import EXTENSIONS, check_upload, display_name
from rapport_portal.service_layer.context import Portal, Principal
from rapport_portal.service_layer.views import _item, scope_of, today


async def owned_open_invoices(session: AsyncSession, who: Principal, ids: list[UUID]) -> list[dict]:
    """The contact's own open invoices, all in one currency; anything else is named in the error."""
    if not ids:
        raise Invalid("at least one invoice is required", "invoice_ids")
    unique = list(dict.fromkeys(ids))
    rows = {r["invoice_id"]: r for r in await queries.invoices_by_ids(session, scope_of(who), unique)}
    for n, invoice_id in enumerate(unique):
        if invoice_id not in rows:
            raise NotFound(f"no such invoice {invoice_id}", f"invoice_ids.{n}")
        if not is_open(_item(rows[invoice_id])):
            raise Conflict(f"invoice {rows[invoice_id]['number']} has nothing left to pay", f"invoice_ids.{n}")
    if len({r["currency"] for r in rows.values()}) > 1:
        raise Invalid("invoices in different currencies must be handled separately", "invoice_ids")
    return [rows[i] for i in unique]


async def _record(portal: Portal, session: AsyncSession, who: Principal, kind: str, status: str,
                  payload: ev.PortalRequest, invoice_ids: list[UUID]) -> None:
    now = portal.clock.now()
    await portal_state.add_request(session, dict(
        request_id=payload.request_id, tenant_id=who.tenant_id, customer_id=who.customer_id,
        contact_id=who.contact_id, kind=kind, status=status, invoice_ids=[str(i) for i in invoice_ids],
        payload=payload.model_dump(mode="json"), created_at=now, updated_at=now))
    await portal.emit(session, who, payload, subject=kind)
    await portal.audit(session, who, f"{kind}_requested", request_id=str(payload.request_id),
                       invoice_ids=[str(i) for i in invoice_ids])


def _base(portal: Portal, who: Principal) -> dict:
    return dict(request_id=new_id(), customer_id=who.customer_id, contact_id=who.contact_id,
                requested_at=portal.clock.now())


async def upload_document(portal: Portal, who: Principal, c: cmd.UploadDocument) -> dict:
    content_type = check_upload(c.content, portal.upload_max_bytes)
    storage_name = portal.files.save(c.content, EXTENSIONS[content_type])
    row = dict(document_id=new_id(), tenant_id=who.tenant_id, customer_id=who.customer_id,
               contact_id=who.contact_id, filename=display_name(c.filename, content_type),
               content_type=content_type, size_bytes=len(c.content),
               sha256=hashlib.sha256(c.content).hexdigest(), storage_name=storage_name,
               created_at=portal.clock.now())
    async with portal.unit_of_work() as session:
        await portal_state.add_document(session, row)
        await portal.audit(session, who, "document_uploaded", document_id=str(row["document_id"]))
    return row


async def open_dispute(portal: Portal, who: Principal, c: cmd.OpenDispute) -> ev.DisputeOpenedV1:
    async with portal.unit_of_work() as session:
        if await queries.invoice(session, scope_of(who), c.invoice_id) is None:
            raise NotFound("no such invoice", "invoice_id")
        if await portal_state.open_request_for_invoice(session, who.tenant_id, who.customer_id, "dispute", c.invoice_id):
            raise Conflict("this invoice already has an open dispute", "invoice_id")
        docs = await _unattached_documents(session, who, c.document_ids)
        payload = ev.DisputeOpenedV1(**_base(portal, who), invoice_id=c.invoice_id, reason_code=c.reason_code,
                                     comment=c.comment, documents=[_document(d) for d in docs])
        await portal_state.attach_documents(session, [d["document_id"] for d in docs], payload.request_id)
        await _record(portal, session, who, "dispute", "open", payload, [c.invoice_id])
    return payload


async def _unattached_documents(session: AsyncSession, who: Principal, ids: list[UUID]) -> list[dict]:
    found = {d["document_id"]: d for d in await portal_state.documents_for(session, who.tenant_id, who.customer_id, ids)}
    for n, document_id in enumerate(ids):
        if document_id not in found:
            raise NotFound(f"no such document {document_id}", f"document_ids.{n}")
        if found[document_id]["request_id"] is not None:
            raise Conflict("this document is already attached to a dispute", f"document_ids.{n}")
    return [found[i] for i in ids]


def _document(d: dict) -> ev.DisputeDocument:
    return ev.DisputeDocument(document_id=d["document_id"], filename=d["filename"], content_type=d["content_type"],
                              size_bytes=d["size_bytes"], sha256=d["sha256"])


async def promise_to_pay(portal: Portal, who: Principal, c: cmd.PromiseToPay) -> ev.PromiseToPayMadeV1:
    async with portal.unit_of_work() as session:
        rows = await owned_open_invoices(session, who, c.invoice_ids)
        limits = await _limits(portal, session, who)
        balance = sum((r["open_amount"] for r in rows), Decimal("0"))
        days = (c.promised_date - today(portal)).days
        if days < 0 or days > limits.max_days:
            raise Invalid(f"promised_date must be between today and {limits.max_days} days from now", "promised_date")
        amount = balance if c.amount is None else c.amount
        if amount <= 0 or amount > balance:
            raise Invalid(f"amount must be positive and at most the open balance {balance}", "amount")
        payload = ev.PromiseToPayMadeV1(**_base(portal, who), invoice_ids=[r["invoice_id"] for r in rows],
                                        promised_date=c.promised_date, amount=amount, currency=rows[0]["currency"])
        await _record(portal, session, who, "promise", "open", payload, payload.invoice_ids)
    return payload


async def _limits(portal: Portal, session: AsyncSession, who: Principal) -> PlanLimits:
    row = await portal_state.plan_limits_of(session, who.tenant_id)
    return PlanLimits(row["max_instalments"], row["max_days"]) if row else portal.default_plan_limits


async def request_plan(portal: Portal, who: Principal, c: cmd.RequestPlan) -> ev.PaymentPlanRequestedV1:
    async with portal.unit_of_work() as session:
        rows = await owned_open_invoices(session, who, c.invoice_ids)
        balance = sum((r["open_amount"] for r in rows), Decimal("0"))
        decision = check_plan(c.instalments, balance, today(portal), await _limits(portal, session, who))
        payload = ev.PaymentPlanRequestedV1(
            **_base(portal, who), plan_id=new_id(), invoice_ids=[r["invoice_id"] for r in rows],
            currency=rows[0]["currency"], auto_approved=decision.auto_approved,
            instalments=[ev.PlanInstalmentRequest(due_date=i.due_date, amount=i.amount) for i in c.instalments])
        status = "approved" if decision.auto_approved else "pending_review"
        await _record(portal, session, who, "plan", status, payload, payload.invoice_ids)
    return payload


async def apply_credit(portal: Portal, who: Principal, c: cmd.ApplyCredit) -> ev.CreditApplicationRequestedV1:
    async with portal.unit_of_work() as session:
        notes = await queries.credit_notes_of(session, scope_of(who), c.credit_note_id)
        if not notes:
            raise NotFound("no such credit note", "credit_note_id")
        invoice = (await owned_open_invoices(session, who, [c.invoice_id]))[0]
        note = notes[0]
        if note["currency"] != invoice["currency"]:
            raise Invalid("the credit note and the invoice are in different currencies", "credit_note_id")
        amount = c.amount if c.amount is not None else min(note["available"], invoice["open_amount"])
        if amount <= 0 or amount > invoice["open_amount"]:
            raise Invalid(f"amount must be positive and at most the invoice's open amount {invoice['open_amount']}", "amount")
        if not await portal_state.reserve_credit(session, who.tenant_id, who.customer_id, c.credit_note_id, amount):
            raise Conflict(f"only {note['available']} {note['currency']} of this credit is available", "amount")
        payload = ev.CreditApplicationRequestedV1(**_base(portal, who), credit_note_id=c.credit_note_id,
                                                  invoice_id=c.invoice_id, amount=amount, currency=note["currency"])
        await _record(portal, session, who, "credit", "requested", payload, [c.invoice_id])
    return payload
