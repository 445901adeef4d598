"""What a contact can see (read-only; every query is scoped to the session's customer)."""
from __future__ import annotations

from datetime import date
from functools import partial
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from rapport_portal.adapters import pdf
from rapport_portal.adapters.queries import InvoiceQuery
from rapport_portal.entrypoints.api import deps, render
from rapport_portal.entrypoints.api.schemas import InvoiceListParams
from rapport_portal.service_layer import views
from rapport_portal.service_layer.context import Portal, Principal

router = APIRouter(prefix="/v1", tags=["account"])
Who = Depends(deps.principal)
P = Depends(deps.get_portal)


@router.get("/summary")
async def summary(who: Principal = Who, portal: Portal = P) -> dict:
    """Total due, overdue, next due and credits available, per currency."""
    customer, s = await views.summary(portal, who)
    return render.summary(customer, s)


@router.get("/invoices", openapi_extra={"parameters": deps.query_parameters(InvoiceListParams)})
async def invoices(request: Request) -> Response:
    """Filter, search, sort and page the customer's invoices (``total`` counts every match)."""
    # The hot route: no FastAPI dependencies to solve (they cost more than the rest of the request).
    who, portal = await deps.principal(request), request.app.state.portal
    params = deps.parse_query(request, InvoiceListParams)
    query = InvoiceQuery(params.status, params.q, params.sort, params.order == "desc", params.limit, params.offset)
    render_page = partial(render.invoice_list, limit=params.limit, offset=params.offset)
    return Response(await views.invoice_list_body(portal, who, query, render_page), media_type="application/json")


@router.get("/invoices/{invoice_id}")
async def invoice(invoice_id: UUID, who: Principal = Who, portal: Portal = P) -> dict:
    row = await views.invoice(portal, who, invoice_id)
    return render.invoice(row, views.today(portal)) | {"disputes": [render.request(r) for r in row["disputes"]]}


@router.get("/invoices/{invoice_id}/pdf", response_class=Response)
async def invoice_pdf(invoice_id: UUID, who: Principal = Who, portal: Portal = P) -> Response:
    """The ERP's PDF when it gave one, otherwise one generated from the ledger's data."""
    row, customer = await views.download_invoice(portal, who, invoice_id)
    if row["pdf_url"] and row["pdf_url"].startswith(("https://", "http://")):
        return RedirectResponse(row["pdf_url"], status_code=302)
    return Response(pdf.invoice_pdf(row, customer), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="invoice-{_safe(row["number"])}.pdf"'})


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60]


@router.get("/statement", response_model=None)
async def statement(
    who: Principal = Who, portal: Portal = P,
    start: date = Query(..., alias="from"), end: date = Query(..., alias="to"),
    currency: str | None = Query(None, pattern=r"^[A-Z]{3}$"),
    format: Literal["json", "pdf"] = "json",
) -> Response | dict:
    st, aging, customer = await views.statement(portal, who, start, end, currency)
    if format == "pdf":
        return Response(pdf.statement_pdf(st, aging, customer), media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="statement-{start}-{end}.pdf"'})
    return render.statement(st, aging)


@router.get("/communications")
async def communications(who: Principal = Who, portal: Portal = P,
                         limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> dict:
    """Every message we sent this customer, and every interaction (payments, replies, case changes)."""
    sent, done = await views.history(portal, who, limit, offset)
    return {"messages": [render.message(m) for m in sent], "interactions": [render.interaction(i) for i in done]}


@router.get("/requests")
async def requests(who: Principal = Who, portal: Portal = P,
                   kind: Literal["dispute", "promise", "plan", "credit", "payment", "callback", "preferences"] | None = None) -> dict:
    """What this customer asked for through the portal, with each one's current status."""
    return {"items": [render.request(r) for r in await views.requests(portal, who, kind)]}


@router.get("/credit-notes")
async def credit_notes(who: Principal = Who, portal: Portal = P) -> dict:
    return {"items": [render.credit_note(c) for c in await views.credit_notes(portal, who)]}
