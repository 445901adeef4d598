"""Provider webhooks: verified with each provider's own scheme, then handed to the service layer."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader
from twilio.request_validator import RequestValidator

from rapport_shared.observability import get_logger
from rapport_shared.web import ApiError

from rapport_outreach.adapters import repository
from rapport_outreach.service_layer import inbound, webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = get_logger(__name__)

SENDGRID_KINDS = {"delivered": "delivered", "open": "opened", "click": "clicked", "bounce": "bounced",
                  "dropped": "dropped", "spamreport": "spam_report", "unsubscribe": "unsubscribe",
                  "group_unsubscribe": "unsubscribe"}
TWILIO_KINDS = {"delivered": "delivered", "read": "opened", "undelivered": "bounced", "failed": "bounced"}
TWILIO_HARD_ERRORS = {"21211", "21614", "30003", "30005", "30006"}  # invalid, not mobile, unreachable, unknown
TWILIO_STOPPED = "21610"
MAX_SKEW_S = 600


@router.post("/sendgrid/events")
async def sendgrid_events(request: Request, tenant: UUID | None = None) -> dict:
    """``?tenant=`` for a tenant's own SendGrid account: its key verifies, and only its messages change."""
    app = request.app.state
    raw = (await request.body()).decode("utf-8", errors="replace")
    key = app.settings.sendgrid_webhook_public_key
    if tenant is not None:
        async with app.sessions() as session:
            account = (await app.deps.accounts.refresh(session, [tenant]))[tenant].get("email")
        key = account.settings.get("webhook_public_key", "") if account and account.provider == "sendgrid" else ""
    _verify_sendgrid(key, raw, request, app.deps.clock.now())
    try:
        events = json.loads(raw)
        assert isinstance(events, list)
    except (ValueError, AssertionError):
        raise ApiError(400, "body must be a JSON array of SendGrid events", field="body") from None
    applied = 0
    async with app.sessions() as session, session.begin():
        for event in events:
            applied += await _apply_sendgrid(session, app.deps, event, tenant)
    return {"received": len(events), "applied": applied}


def _verify_sendgrid(public_key: str, raw: str, request: Request, now: datetime) -> None:
    if not public_key:
        raise ApiError(503, "SendGrid webhook verification key is not configured")
    signature = request.headers.get(EventWebhookHeader.SIGNATURE)
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP)
    if not signature or not timestamp:
        raise ApiError(401, "signature headers missing", field=EventWebhookHeader.SIGNATURE)
    try:
        valid = EventWebhook(public_key).verify_signature(raw, signature, timestamp)
        fresh = abs(now.timestamp() - int(timestamp)) <= MAX_SKEW_S
    except (ValueError, TypeError):
        valid = fresh = False
    if not valid or not fresh:
        raise ApiError(403, "signature does not verify" if not valid else "timestamp too old",
                       field=EventWebhookHeader.SIGNATURE)


async def _apply_sendgrid(session, deps, event: dict, tenant: UUID | None) -> int:  # noqa: ANN001
    if not isinstance(event, dict):
        return 0
    kind = SENDGRID_KINDS.get(str(event.get("event")))
    try:
        message_id = UUID(str(event.get("rapport_message_id")))
    except ValueError:
        return 0  # not one of ours (or an event without our custom args)
    row = await repository.get_message(session, message_id)
    if kind is None or row is None or (tenant is not None and row.tenant_id != tenant):
        return 0
    occurred = datetime.fromtimestamp(int(event.get("timestamp") or deps.clock.now().timestamp()), tz=timezone.utc)
    hard = not (kind == "bounced" and event.get("type") == "blocked")
    event_id = str(event.get("sg_event_id") or f"{message_id}:{kind}:{event.get('timestamp')}")
    return int(await webhooks.apply_event(session, deps, row, kind, occurred, provider_event_id=event_id,
                                          detail=event.get("reason") or event.get("response"),
                                          url=event.get("url"), hard=hard))


@router.post("/sendgrid/inbound")
async def sendgrid_inbound(request: Request) -> dict:
    app = request.app.state
    token = app.settings.inbound_parse_token.get_secret_value()
    if not token:  # an unauthenticated endpoint would let anyone forge replies and unsubscribes
        raise ApiError(503, "Inbound Parse token is not configured")
    if not hmac.compare_digest(request.query_params.get("token", "").encode(), token.encode()):
        raise ApiError(403, "inbound parse token does not match", field="token")
    form = await request.form()
    sender, to, text = str(form.get("from") or ""), str(form.get("to") or ""), str(form.get("text") or "")
    if not sender:
        raise ApiError(422, "the sender of the e-mail is missing", field="from")
    headers = str(form.get("headers") or "")
    event_id = "email-in:" + hashlib.sha256(f"{sender}|{to}|{headers}|{text}".encode()).hexdigest()[:40]
    async with app.sessions() as session, session.begin():
        outcome = await inbound.inbound_email(session, app.deps, sender, to, text, event_id, headers)
    return {"outcome": outcome}


async def _twilio_form(request: Request) -> dict[str, str]:
    """The form of a request signed by Twilio: with the process's auth token or a tenant's own account's."""
    app = request.app.state
    form = {k: str(v) for k, v in (await request.form()).multi_items()}
    tokens = [app.settings.twilio_auth_token.get_secret_value()]
    async with app.sessions() as session:
        tokens += await inbound.twilio_tokens(session, app.deps, form.get("AccountSid"))
    if not any(tokens):
        raise ApiError(503, "Twilio auth token is not configured")
    base = app.settings.public_base_url.rstrip("/")
    url = f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "") if base \
        else str(request.url)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not any(t and RequestValidator(t).validate(url, form, signature) for t in tokens):
        raise ApiError(403, "signature does not verify", field="X-Twilio-Signature")
    return form


@router.post("/twilio/status")
async def twilio_status(request: Request) -> dict:
    app = request.app.state
    form = await _twilio_form(request)
    status, sid = form.get("MessageStatus", ""), form.get("MessageSid", "")
    kind = TWILIO_KINDS.get(status)
    error = form.get("ErrorCode") or ""
    async with app.sessions() as session, session.begin():
        row = await repository.message_by_provider_id(session, sid) if sid else None
        if row is None or (kind is None and error != TWILIO_STOPPED):
            return {"applied": 0}
        now = app.deps.clock.now()
        if error == TWILIO_STOPPED:
            await webhooks.suppress(session, app.deps, row, "stop", now)
        applied = await webhooks.apply_event(session, app.deps, row, kind or "bounced", now,
                                             provider_event_id=f"{sid}:{status}", detail=error or None,
                                             hard=error in TWILIO_HARD_ERRORS)
    return {"applied": int(applied)}


@router.post("/twilio/inbound")
async def twilio_inbound(request: Request) -> PlainTextResponse:
    app = request.app.state
    form = await _twilio_form(request)
    if not form.get("From"):
        raise ApiError(422, "the sender of the SMS is missing", field="From")
    async with app.sessions() as session, session.begin():
        outcome = await inbound.inbound_sms(session, app.deps, form)
    log.info("inbound sms", outcome=outcome)
    # Twilio expects TwiML; an empty response sends no automatic answer.
    return PlainTextResponse("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
                             media_type="application/xml")
