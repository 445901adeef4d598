"""ERP/CRM integration API: customers, contacts, invoices, credit notes, payments, adjustments."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rapport_ingest.domain import commands as c
from rapport_ingest.service_layer import credit_notes, customers, invoices, payments, views
from rapport_ingest.service_layer.snapshots import customer_view
from rapport_ingest.service_layer.tenancy import Caller
from rapport_ingest.entrypoints.api.deps import idempotent, in_transaction, post_invoice_fast, scoped

router = APIRouter(prefix="/v1")
reader, writer = scoped("read"), scoped("write")


@router.put("/customers/{external_id}", tags=["customers"])
async def put_customer(external_id: str, body: c.UpsertCustomer, request: Request, who: Caller = Depends(writer)):
    async def work(uow):
        result = await customers.upsert_customer(uow, external_id, body)
        return result.created, {**customer_view(result.row), "applied": result.applied}
    created, view = await in_transaction(request, who.tenant_id, work)
    return JSONResponse(view, status_code=201 if created else 200)


@router.get("/customers/{external_id}", tags=["customers"])
async def get_customer(external_id: str, request: Request, who: Caller = Depends(reader)):
    async def work(uow):
        return await views.customer_full_view(uow, await customers.customer_or_404(uow, external_id, "external_id"))
    return await in_transaction(request, who.tenant_id, work)


@router.put("/customers/{external_id}/contacts/{contact_external_id}", tags=["customers"])
async def put_contact(external_id: str, contact_external_id: str, body: c.UpsertContact, request: Request,
                      who: Caller = Depends(writer)):
    async def work(uow):
        result = await customers.upsert_contact(uow, external_id, contact_external_id, body)
        row = result.row
        return result.created, {"contact_id": str(row.id), "external_id": row.external_id,
                                "customer_id": str(row.customer_id), **row.attributes, "version": row.version}
    created, view = await in_transaction(request, who.tenant_id, work)
    return JSONResponse(view, status_code=201 if created else 200)


@router.put("/invoices/{number}", tags=["invoices"])
async def put_invoice(number: str, body: c.UpsertInvoice, request: Request, who: Caller = Depends(writer)):
    async def work(uow):
        result = await invoices.upsert_invoice(uow, number, body)
        return result.created, {**views.invoice_fields(result.row), "applied": result.applied}
    created, view = await in_transaction(request, who.tenant_id, work)
    return JSONResponse(view, status_code=201 if created else 200)


@router.post("/invoices", tags=["invoices"])
async def post_invoice(body: c.CreateInvoice, request: Request, who: Caller = Depends(writer),
                       idempotency_key: str | None = Header(None)):
    if not idempotency_key:
        return await post_invoice_fast(request, who.tenant_id, body)

    async def work(uow):
        result = await invoices.create_invoice(uow, body)
        return (201 if result.created else 200), views.invoice_fields(result.row)
    return await idempotent(request, who.tenant_id, idempotency_key, body.model_dump(mode="json"), work)


@router.get("/invoices/{number}", tags=["invoices"])
async def get_invoice(number: str, request: Request, who: Caller = Depends(reader)):
    async def work(uow):
        return await views.invoice_view(uow, await invoices.invoice_or_404(uow, number))
    return await in_transaction(request, who.tenant_id, work)


@router.get("/invoices", tags=["invoices"])
async def list_invoices(request: Request, who: Caller = Depends(reader), status: str | None = None,
                        customer: str | None = Query(None, description="customer external id"),
                        limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)):
    async def work(uow):
        customer_id = (await customers.customer_or_404(uow, customer, "customer")).id if customer else None
        rows = await uow.ledger.list_invoices(status=status, customer_id=customer_id, limit=limit, offset=offset)
        return {"items": [views.invoice_fields(r) for r in rows], "limit": limit, "offset": offset}
    return await in_transaction(request, who.tenant_id, work)


@router.post("/invoices/{number}/adjustments", tags=["invoices"])
async def post_adjustment(number: str, body: c.Adjust, request: Request, who: Caller = Depends(writer),
                          idempotency_key: str | None = Header(None)):
    async def work(uow):
        return 201, views.invoice_fields(await invoices.adjust_invoice(uow, number, body))
    return await idempotent(request, who.tenant_id, idempotency_key, body.model_dump(mode="json"), work)


@router.post("/credit-notes", tags=["credit notes"])
async def post_credit_note(body: c.IssueCreditNote, request: Request, who: Caller = Depends(writer),
                           idempotency_key: str | None = Header(None)):
    async def work(uow):
        row, created = await credit_notes.issue_credit_note(uow, body)
        return (201 if created else 200), _credit_view(row)
    return await idempotent(request, who.tenant_id, idempotency_key, body.model_dump(mode="json"), work)


@router.post("/credit-notes/{number}/applications", tags=["credit notes"])
async def apply_credit_note(number: str, body: c.ApplyCreditNote, request: Request, who: Caller = Depends(writer),
                            idempotency_key: str | None = Header(None)):
    async def work(uow):
        return 201, _credit_view(await credit_notes.apply_by_number(uow, number, body))
    return await idempotent(request, who.tenant_id, idempotency_key, body.model_dump(mode="json"), work)


def _credit_view(row) -> dict:
    return {"credit_note_id": str(row.id), "number": row.number, "customer_id": str(row.customer_id),
            "currency": row.currency, "amount": format(row.amount, "f"),
            "unapplied_amount": format(row.unapplied_amount, "f"), "version": row.version}


@router.post("/payments", tags=["payments"])
async def post_payment(body: c.RecordPayment, request: Request, who: Caller = Depends(writer),
                       idempotency_key: str | None = Header(None)):
    async def work(uow):
        row, created = await payments.record_payment(uow, body)
        return (201 if created else 200), await views.payment_view(uow, row)
    return await idempotent(request, who.tenant_id, idempotency_key, body.model_dump(mode="json"), work)


class CashPolicy(BaseModel):
    policy: Literal["oldest_first", "unapplied"]


@router.put("/settings/cash-application", tags=["payments"])
async def put_cash_policy(body: CashPolicy, request: Request, who: Caller = Depends(scoped("admin"))):
    """What cash application does when no rule matched: pay oldest first, or leave it for review."""
    async def work(uow):
        await uow.ledger.set_cash_application_policy(body.policy)
        return {"policy": body.policy}
    return await in_transaction(request, who.tenant_id, work)


@router.get("/payments/{external_id}", tags=["payments"])
async def get_payment(external_id: str, request: Request, who: Caller = Depends(reader)):
    async def work(uow):
        return await views.payment_view(uow, await payments.payment_or_404(uow, external_id))
    return await in_transaction(request, who.tenant_id, work)


@router.post("/payments/{external_id}/reversals", tags=["payments"])
async def reverse_payment(external_id: str, body: c.ReversePayment, request: Request, who: Caller = Depends(writer),
                          idempotency_key: str | None = Header(None)):
    async def work(uow):
        return 201, await views.payment_view(uow, await payments.reverse_payment(uow, external_id, body))
    return await idempotent(request, who.tenant_id, idempotency_key, body.model_dump(mode="json"), work)
