"""The reference portal page: server-rendered HTML forms over the same service layer as the API."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

from babel.numbers import get_currency_precision
from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from rapport_shared.web import ApiError

from rapport_portal.adapters.queries import InvoiceQuery
from rapport_portal.domain import commands as cmd
from rapport_portal.domain.errors import PortalError, Unauthorized
from rapport_portal.domain.plans import equal_instalments
from rapport_portal.entrypoints.api import deps, schemas
from rapport_portal.entrypoints.api.action_routes import read_limited
from rapport_portal.entrypoints.api.auth_routes import set_session_cookie
from rapport_portal.service_layer import actions, auth, more_actions, views
from rapport_portal.service_layer.context import Portal, Principal

router = APIRouter(prefix="/portal", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "templates"))
P = Depends(deps.get_portal)
PAGE = 25


async def viewer(request: Request, portal: Portal = P) -> Principal | None:
    token = request.cookies.get(deps.COOKIE)
    if not token:
        return None
    try:
        return await auth.authenticate(portal, token, deps.client_ip(request))
    except Unauthorized:
        return None


def _page(request: Request, name: str, who: Principal | None, **context) -> HTMLResponse:
    context |= {"who": who, "csrf": who.csrf_token if who else "", "notice": request.query_params.get("ok"),
                "error": request.query_params.get("error")}
    return templates.TemplateResponse(request, name, context)


def _back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?ok={quote(ok)}" if ok else f"?error={quote(error)}" if error else ""
    return RedirectResponse(f"/portal{path}{query}", status_code=303)


def _signin() -> RedirectResponse:
    return RedirectResponse("/portal/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login(request: Request, token: str | None = None, portal: Portal = P) -> Response:
    """The link in every message lands here: exchange it for a session cookie, or offer to send one."""
    if not token:
        return _page(request, "login.html", None)
    try:
        new = await auth.exchange(portal, token, deps.client_ip(request))
    except PortalError as exc:
        return _page(request, "login.html", None, refused=exc.reason)
    response = RedirectResponse("/portal", status_code=303)
    set_session_cookie(response, request, new)
    return response


@router.post("/magic-link", response_class=HTMLResponse)
async def magic_link(request: Request, background: BackgroundTasks, email: str = Form(..., max_length=320),
                     portal: Portal = P) -> Response:
    ip = deps.client_ip(request)
    try:
        address = await auth.request_magic_link(portal, email, ip)
    except PortalError as exc:
        return _page(request, "login.html", None, refused=exc.reason)
    background.add_task(auth.send_magic_links, portal, address, ip)  # after the page: same timing for any address
    return _page(request, "login.html", None, sent=True)


@router.get("", response_class=HTMLResponse)
async def home(request: Request, who: Principal | None = Depends(viewer), portal: Portal = P,
               status: str = Query("open", pattern="^(all|open|overdue|paid)$"), q: str | None = Query(None, max_length=100),
               sort: str = Query("due_date", pattern="^(due_date|issue_date|number|amount|open_amount)$"),
               page: int = Query(1, ge=1, le=10_000)) -> Response:
    if who is None:
        return _signin()
    customer, summary = await views.summary(portal, who)
    rows, total = await views.list_invoices(portal, who, InvoiceQuery(status, q, sort, False, PAGE, (page - 1) * PAGE))
    return _page(request, "home.html", who, customer=customer, summary=summary, invoices=rows, total=total,
                 status=status, q=q or "", sort=sort, page=page, pages=max(1, -(-total // PAGE)), today=views.today(portal))


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
async def invoice(request: Request, invoice_id: UUID, who: Principal | None = Depends(viewer), portal: Portal = P) -> Response:
    if who is None:
        return _signin()
    try:
        row = await views.invoice(portal, who, invoice_id)
    except PortalError:
        return _page(request, "notice.html", who, message="No such invoice.")
    today = views.today(portal)
    return _page(request, "invoice.html", who, invoice=row, today=today, min_date=today.isoformat(),
                 max_date=(today + timedelta(days=portal.default_plan_limits.max_days)).isoformat())


@router.get("/statement", response_class=HTMLResponse)
async def statement(request: Request, who: Principal | None = Depends(viewer), portal: Portal = P,
                    start: date | None = Query(None, alias="from"), end: date | None = Query(None, alias="to")) -> Response:
    if who is None:
        return _signin()
    end = end or views.today(portal)
    start = start or end.replace(day=1) - timedelta(days=90)
    try:
        st, aging, _ = await views.statement(portal, who, start, end, None)
    except PortalError as exc:
        return _page(request, "notice.html", who, message=exc.reason)
    return _page(request, "statement.html", who, st=st, aging=aging)


@router.get("/messages", response_class=HTMLResponse)
async def messages(request: Request, who: Principal | None = Depends(viewer), portal: Portal = P) -> Response:
    if who is None:
        return _signin()
    sent, done = await views.history(portal, who, 100, 0)
    return _page(request, "messages.html", who, messages=sent, interactions=done)


async def actor(request: Request, csrf_token: str = Form(""), portal: Portal = P) -> Principal:
    """A form post: signed in by cookie, and the form must carry this session's CSRF token."""
    token = request.cookies.get(deps.COOKIE)
    if not token:
        raise Unauthorized("not signed in")
    who = await auth.authenticate(portal, token, deps.client_ip(request))
    deps.check_csrf(who, csrf_token)
    return who


async def _act(path: str, ok: str, action) -> RedirectResponse:
    """Run an action and come back to the page with its outcome (the action may return its own message)."""
    try:
        outcome = await action
    except (PortalError, ApiError) as exc:
        return _back(path, error=exc.reason)
    return _back(path, ok=outcome if isinstance(outcome, str) else ok)


@router.post("/invoices/{invoice_id}/dispute")
async def dispute(request: Request, invoice_id: UUID, reason_code: str = Form(...), comment: str = Form("", max_length=4000),
                  file: UploadFile | None = File(None), who: Principal = Depends(actor), portal: Portal = P) -> Response:
    async def run() -> None:
        documents = []
        if file is not None and file.filename:
            content = await read_limited(request, file, portal.upload_max_bytes)
            documents.append((await actions.upload_document(portal, who, cmd.UploadDocument(file.filename, content)))["document_id"])
        if reason_code not in ("not_received", "wrong_amount", "wrong_items", "damaged", "duplicate",
                               "already_paid", "pricing", "tax", "other"):
            raise ApiError(422, "choose a reason", field="reason_code")
        await actions.open_dispute(portal, who, cmd.OpenDispute(invoice_id, reason_code, comment or None, documents))
    return await _act(f"/invoices/{invoice_id}", "Your dispute was sent. We will get back to you.", run())


@router.post("/invoices/{invoice_id}/promise")
async def promise(invoice_id: UUID, promised_date: date = Form(...), who: Principal = Depends(actor), portal: Portal = P) -> Response:
    return await _act(f"/invoices/{invoice_id}", f"Thank you: we noted your promise to pay on {promised_date}.",
                      actions.promise_to_pay(portal, who, cmd.PromiseToPay([invoice_id], promised_date, None)))


@router.post("/invoices/{invoice_id}/plan")
async def plan(invoice_id: UUID, instalments: int = Form(..., ge=1, le=36), first_due_date: date = Form(...),
               who: Principal = Depends(actor), portal: Portal = P) -> Response:
    async def run() -> str | None:
        row = await views.invoice(portal, who, invoice_id)
        parts = equal_instalments(Decimal(row["open_amount"]), instalments, first_due_date, 30,
                                  get_currency_precision(row["currency"]))
        payload = await actions.request_plan(portal, who, cmd.RequestPlan([invoice_id], parts))
        return None if payload.auto_approved else "Your plan request was sent to your account manager for review."
    return await _act(f"/invoices/{invoice_id}", "Your payment plan is approved.", run())


@router.post("/pay")
async def pay(invoice_ids: list[UUID] = Form(...), who: Principal = Depends(actor), portal: Portal = P) -> Response:
    try:
        _, url = await more_actions.pay(portal, who, cmd.PayInvoices(invoice_ids))
    except PortalError as exc:
        return _back("", error=exc.reason)
    return RedirectResponse(url, status_code=303)


CHANNELS = [("email", "Email"), ("sms", "Text message (SMS)"), ("call", "Phone call")]
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español"), ("it", "Italiano"),
             ("nl", "Nederlands")]


@router.get("/contact", response_class=HTMLResponse)
async def contact(request: Request, who: Principal | None = Depends(viewer), portal: Portal = P) -> Response:
    if who is None:
        return _signin()
    row = await views.contact(portal, who)
    return _page(request, "contact.html", who, contact=row, channels=CHANNELS, languages=LANGUAGES)


def _valid(model: type[BaseModel], fields: dict) -> BaseModel:
    """Validate a form with the API's own body model, so both accept exactly the same input."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v not in ("", None)})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(422, f"{first['loc'][0]}: {first['msg']}", field=str(first["loc"][0])) from None


@router.post("/callback")
async def callback(phone: str = Form(""), preferred_time: str = Form(""), note: str = Form(""),
                   who: Principal = Depends(actor), portal: Portal = P) -> Response:
    async def run() -> None:
        body = _valid(schemas.CallbackBody, {"phone": phone.replace(" ", ""), "preferred_time": preferred_time, "note": note})
        await more_actions.request_callback(portal, who, cmd.RequestCallback(body.phone, body.preferred_time, body.note))
    return await _act("/contact", "Thank you: we will call you back.", run())


@router.post("/preferences")
async def preferences(preferred_channel: str = Form(""), locale: str = Form(""),
                      opted_out_channels: list[str] = Form([]), who: Principal = Depends(actor), portal: Portal = P) -> Response:
    async def run() -> None:
        body = _valid(schemas.PreferencesBody, {"preferred_channel": preferred_channel, "locale": locale,
                                                "opted_out_channels": opted_out_channels})
        await more_actions.set_preferences(portal, who, cmd.SetPreferences(
            body.preferred_channel, body.locale, list(body.opted_out_channels)))
    return await _act("/contact", "Your contact preferences are saved.", run())


@router.post("/logout")
async def logout(who: Principal = Depends(actor), portal: Portal = P) -> Response:
    await auth.logout(portal, who)
    response = RedirectResponse("/portal/login", status_code=303)
    response.delete_cookie(deps.COOKIE, path="/")
    return response
