"""Stripe webhook verification through the stripe library's own signature check."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import stripe
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_ingest.adapters.orm import payments, stripe_events, webhook_rejections


class BadSignature(ValueError):
    """The payload was not signed with our secret, or is too old (replay)."""


def verify(payload: bytes, signature: str | None, secret: str, tolerance_s: int) -> dict[str, Any]:
    """The event as a plain dict, only if ``Stripe-Signature`` proves it came from Stripe."""
    try:
        stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance_s)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(str(exc)) from None
    except ValueError as exc:
        raise BadSignature(f"payload is not JSON: {exc}") from None
    return json.loads(payload)


async def claim_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    """True the first time Stripe's event id is seen (Stripe retries deliveries)."""
    statement = pg_insert(stripe_events).values(event_id=event["id"], type=event.get("type", "?"), outcome="received")
    return (await session.execute(statement.on_conflict_do_nothing().returning(stripe_events.c.event_id))).first() is not None


async def record_outcome(session: AsyncSession, event_id: str, outcome: str, tenant_id: Any = None) -> None:
    from sqlalchemy import update

    await session.execute(update(stripe_events).where(stripe_events.c.event_id == event_id)
                          .values(outcome=outcome[:500], tenant_id=tenant_id))


async def record_rejection(session: AsyncSession, reason: str, signature: str | None, payload: bytes) -> None:
    await session.execute(insert(webhook_rejections).values(
        provider="stripe", reason=reason[:500], signature=(signature or "")[:500],
        body_sha256=hashlib.sha256(payload).hexdigest()))


async def tenant_of_payment(session: AsyncSession, external_id: str) -> Any:
    """Refund events may lack our metadata; the payment they refund knows its tenant."""
    return (await session.execute(select(payments.c.tenant_id).where(payments.c.external_id == external_id)
                                  .limit(1))).scalar_one_or_none()
