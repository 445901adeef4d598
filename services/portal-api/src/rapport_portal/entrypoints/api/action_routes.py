"""What a contact can do; each request becomes a ``portal`` event (202: the owning service decides)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, UploadFile

from rapport_shared.web import ApiError

from rapport_portal.domain import commands as cmd
from rapport_portal.domain.plans import Instalment
from rapport_portal.entrypoints.api import deps, schemas
from rapport_portal.service_layer import actions, more_actions
from rapport_portal.service_layer.context import Portal, Principal

router = APIRouter(prefix="/v1", tags=["actions"])
Who = Depends(deps.principal)
P = Depends(deps.get_portal)
MULTIPART_OVERHEAD = 64 * 1024


def _accepted(payload, **extra) -> dict:
    return {"request_id": str(payload.request_id), **extra}


async def read_limited(request: Request, upload: UploadFile, max_bytes: int) -> bytes:
    """Refuse oversized bodies before reading them; never read more than the limit plus one byte."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise ApiError(413, f"the file is larger than {max_bytes} bytes", field="file")
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ApiError(413, f"the file is larger than {max_bytes} bytes", field="file")
    return content


@router.post("/documents", status_code=201)
async def upload(request: Request, file: UploadFile = File(...), who: Principal = Who, portal: Portal = P) -> dict:
    """A supporting document for a dispute (PDF, PNG or JPEG, checked by content)."""
    content = await read_limited(request, file, portal.upload_max_bytes)
    row = await actions.upload_document(portal, who, cmd.UploadDocument(file.filename, content))
    return {"document_id": str(row["document_id"]), "filename": row["filename"],
            "content_type": row["content_type"], "size_bytes": row["size_bytes"], "sha256": row["sha256"]}


@router.post("/disputes", status_code=202)
async def dispute(body: schemas.DisputeBody, who: Principal = Who, portal: Portal = P) -> dict:
    payload = await actions.open_dispute(portal, who, cmd.OpenDispute(
        body.invoice_id, body.reason_code, body.comment, body.document_ids))
    return _accepted(payload, status="open", documents=len(payload.documents))


@router.post("/promises", status_code=202)
async def promise(body: schemas.PromiseBody, who: Principal = Who, portal: Portal = P) -> dict:
    payload = await actions.promise_to_pay(portal, who, cmd.PromiseToPay(body.invoice_ids, body.promised_date, body.amount))
    return _accepted(payload, amount=format(payload.amount, "f"), currency=payload.currency,
                     promised_date=payload.promised_date.isoformat())


@router.post("/payment-plans", status_code=202)
async def plan(body: schemas.PlanBody, who: Principal = Who, portal: Portal = P) -> dict:
    """Auto-approved inside the tenant's limits; otherwise sent to a collector for review."""
    payload = await actions.request_plan(portal, who, cmd.RequestPlan(
        body.invoice_ids, [Instalment(i.due_date, i.amount) for i in body.instalments]))
    return _accepted(payload, plan_id=str(payload.plan_id), auto_approved=payload.auto_approved,
                     status="approved" if payload.auto_approved else "pending_review")


@router.post("/credit-applications", status_code=202)
async def apply_credit(body: schemas.CreditBody, who: Principal = Who, portal: Portal = P) -> dict:
    payload = await actions.apply_credit(portal, who, cmd.ApplyCredit(body.credit_note_id, body.invoice_id, body.amount))
    return _accepted(payload, amount=format(payload.amount, "f"), currency=payload.currency)


@router.post("/payments/checkout", status_code=201)
async def checkout(body: schemas.CheckoutBody, who: Principal = Who, portal: Portal = P) -> dict:
    """A Stripe Checkout Session for one or several invoices; redirect the browser to ``checkout_url``."""
    payload, url = await more_actions.pay(portal, who, cmd.PayInvoices(body.invoice_ids))
    return _accepted(payload, checkout_session_id=payload.checkout_session_id, checkout_url=url,
                     amount=format(payload.amount, "f"), currency=payload.currency)


@router.post("/callbacks", status_code=202)
async def callback(body: schemas.CallbackBody, who: Principal = Who, portal: Portal = P) -> dict:
    payload = await more_actions.request_callback(portal, who, cmd.RequestCallback(body.phone, body.preferred_time, body.note))
    return _accepted(payload)


@router.put("/preferences", status_code=202)
async def preferences(body: schemas.PreferencesBody, who: Principal = Who, portal: Portal = P) -> dict:
    payload = await more_actions.set_preferences(portal, who, cmd.SetPreferences(
        body.preferred_channel, body.locale, list(body.opted_out_channels)))
    return _accepted(payload)
