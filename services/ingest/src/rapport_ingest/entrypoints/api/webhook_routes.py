"""Payment-processor webhooks."""
from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from rapport_shared.observability import get_logger

from rapport_ingest.adapters import stripe_gateway as gateway
from rapport_ingest.service_layer.webhooks import handle_stripe_event

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = get_logger(__name__)


@router.post("/stripe")
async def stripe_webhook(request: Request, stripe_signature: str | None = Header(None)):
    """Verified with the stripe library (signature and timestamp tolerance); idempotent by event id."""
    state = request.app.state
    payload = await request.body()
    try:
        event = gateway.verify(payload, stripe_signature, state.settings.stripe_webhook_secret,
                               state.settings.stripe_tolerance_s)
    except gateway.BadSignature as exc:
        log.warning("stripe webhook rejected", reason=str(exc))
        async with state.sessions() as session, session.begin():
            await gateway.record_rejection(session, str(exc), stripe_signature, payload)
        return JSONResponse({"detail": f"Stripe-Signature: {exc}", "errors": [
            {"field": "Stripe-Signature", "reason": str(exc)}]}, status_code=400)
    async with state.sessions() as session, session.begin():
        outcome = await handle_stripe_event(session, event, state.outbox, state.clock)
    return {"received": True, "event_id": event.get("id"), "outcome": outcome}
