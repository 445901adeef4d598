"""What outreach does with each event it consumes: queue a message, learn a contact, send a link.

Handlers only write rows (state ``queued``) and outbox events in the consumer's transaction;
the sender delivers later, so a slow provider never holds a Kafka partition.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.customer import ContactUpsertedV1
from rapport_shared.contracts.envelope import Envelope
from rapport_shared.contracts.outreach import CallTaskRequestedV1
from rapport_shared.contracts.portal import MagicLinkRequestedV1
from rapport_shared.contracts.touchpoint import TouchpointDueV1
from rapport_shared.ids import new_id
from rapport_shared.time import Clock

from rapport_outreach.adapters import repository, template_repository
from rapport_outreach.domain.context import template_locale
from rapport_outreach.domain.errors import OutreachError
from rapport_outreach.domain.model import SENDABLE_CHANNELS, Draft, State, address_for, normalise_address
from rapport_outreach.service_layer.compose import Composer
from rapport_outreach.service_layer.events import emit
from rapport_outreach.service_layer.accounts import AccountBook, Accounts
from rapport_outreach.service_layer.registry import ProviderRegistry


@dataclass
class Deps:
    outbox: Outbox
    composer: Composer
    registry: ProviderRegistry
    clock: Clock
    accounts: AccountBook | None = None  # tenants' own provider accounts

    async def accounts_of(self, session: AsyncSession, tenant_id: UUID) -> Accounts:
        return await self.accounts.of(session, tenant_id) if self.accounts else {}


async def on_touchpoint(session: AsyncSession, deps: Deps, envelope: Envelope, tp: TouchpointDueV1) -> None:
    await queue_touchpoint(session, deps, envelope.tenant_id, on_wall_clock(tp), envelope.correlation_id,
                           causation=envelope)


def on_wall_clock(tp: TouchpointDueV1) -> TouchpointDueV1:
    """The send window on this service's clock: a time-travelling scheduler decided it on its own."""
    if not tp.clock_offset_seconds:
        return tp
    shift = timedelta(seconds=tp.clock_offset_seconds)
    moved = {k: getattr(tp, k) - shift for k in ("send_not_before", "send_not_after") if getattr(tp, k)}
    return tp.model_copy(update=moved)


async def queue_touchpoint(session: AsyncSession, deps: Deps, tenant_id: UUID, tp: TouchpointDueV1,
                           correlation_id: UUID | None, *, causation: Envelope | None = None,
                           exclude: frozenset[str] = frozenset()) -> None:
    """Queue the touchpoint on the first usable channel, else ask the scheduler for a call."""
    candidates = [c for c in dict.fromkeys([tp.channel, *tp.fallback_channels]) if c not in exclude]
    facts = await repository.recipient_facts(session, tenant_id, tp.recipient.contact_id, _address_keys(tp),
                                             tp.template_key, template_locale(tp.recipient.locale))
    blocked = blocked_channels(tp, facts)
    accounts = await deps.accounts_of(session, tenant_id)
    reasons = [f"{c}: {blocked[c]}" for c in exclude if c in blocked] or [f"{c}: suppressed" for c in exclude]
    for channel in candidates:
        if channel not in SENDABLE_CHANNELS or not deps.registry.supports(channel, accounts):
            reasons.append(f"{channel} step")
            break
        if channel in blocked:
            reasons.append(f"{channel}: {blocked[channel]}")
            continue
        address = address_for(channel, tp.recipient.email, tp.recipient.phone) or ""
        try:
            draft = deps.composer.draft(tenant_id, tp, channel, address, facts.overrides)
        except OutreachError as exc:
            reasons.append(f"{channel}: {exc.field or 'template'} {exc.reason}")
            continue
        provider = deps.registry.choose(tenant_id, channel, accounts)
        await repository.insert_message(session, message_row(deps, tenant_id, tp, draft, correlation_id, provider))
        return
    await request_call(session, deps, tenant_id, tp, correlation_id, "; ".join(reasons), causation)


def blocked_channels(tp: TouchpointDueV1, facts: repository.RecipientFacts) -> dict[str, str]:
    """Why each sendable channel cannot be used for this recipient (missing, opted out, suppressed)."""
    blocked: dict[str, str] = {}
    for channel in SENDABLE_CHANNELS:
        if not address_for(channel, tp.recipient.email, tp.recipient.phone):
            blocked[channel] = f"no {channel} address"
        elif channel in facts.opted_out:
            blocked[channel] = "contact opted out or gave no consent"
        elif channel in facts.suppressed:
            blocked[channel] = "on the suppression list"
    return blocked


def _address_keys(tp: TouchpointDueV1) -> list[tuple[str, str]]:
    found = ((c, address_for(c, tp.recipient.email, tp.recipient.phone)) for c in SENDABLE_CHANNELS)
    return [(channel, normalise_address(channel, address)) for channel, address in found if address]


def message_row(deps: Deps, tenant_id: UUID, tp: TouchpointDueV1, draft: Draft, correlation_id: UUID | None,
                provider: str) -> dict:
    now = deps.clock.now()
    return {
        "id": new_id(), "tenant_id": tenant_id, "touchpoint_id": tp.touchpoint_id,
        "customer_id": tp.customer.customer_id, "contact_id": tp.recipient.contact_id, "channel": draft.channel,
        "provider": provider, "state": State.QUEUED,
        "to_address": draft.to_address, "template_key": tp.template_key, "locale": tp.recipient.locale,
        "subject": draft.subject, "body_text": draft.body_text, "body_html": draft.body_html,
        "invoice_ids": [str(i.invoice_id) for i in tp.invoices], "touchpoint": tp.model_dump(mode="json"),
        "correlation_id": correlation_id, "created_at": now, "updated_at": now,
        "next_attempt_at": max(now, tp.send_not_before) if tp.send_not_before else now,
    }


async def request_call(session: AsyncSession, deps: Deps, tenant_id: UUID, tp: TouchpointDueV1,
                       correlation_id: UUID | None, reason: str, causation: Envelope | None) -> None:
    """A call task for the collector's worklist, recorded once per touchpoint."""
    call = Draft("call", tp.recipient.phone or "", None, reason, None)
    row = {**message_row(deps, tenant_id, tp, call, correlation_id, "worklist"), "state": State.TASK}
    if not await repository.insert_message(session, row):
        return
    now = deps.clock.now()
    payload = CallTaskRequestedV1(
        message_id=row["id"], touchpoint_id=tp.touchpoint_id, customer_id=tp.customer.customer_id,
        contact_id=tp.recipient.contact_id, channel="call", provider="worklist", occurred_at=now,
        invoice_ids=[i.invoice_id for i in tp.invoices], template_key=tp.template_key, reason=reason or "call step")
    await emit(session, deps.outbox, payload, tenant_id=tenant_id, customer_id=tp.customer.customer_id,
               correlation_id=correlation_id, causation=causation, time=now)


async def on_contact(session: AsyncSession, tenant_id: UUID, contact: ContactUpsertedV1) -> None:
    opted_out = set(contact.opted_out_channels)
    if not contact.consent_email:
        opted_out.add("email")
    if not contact.consent_sms:
        opted_out.add("sms")
    await repository.upsert_contact(session, {
        "tenant_id": tenant_id, "contact_id": contact.contact_id, "customer_id": contact.customer_id,
        "name": contact.name, "email": contact.email.lower() if contact.email else None,
        "phone": normalise_address("sms", contact.phone) if contact.phone else None, "locale": contact.locale,
        "opted_out_channels": sorted(opted_out), "version": contact.version})


async def on_magic_link(session: AsyncSession, deps: Deps, envelope: Envelope, req: MagicLinkRequestedV1) -> None:
    tenant_id = envelope.tenant_id
    address = normalise_address("email", req.email)
    if await repository.suppressed(session, [(tenant_id, "email", address)]):
        return  # the portal never reveals whether an address exists; a suppressed one just gets nothing
    contact = await repository.get_contact(session, tenant_id, req.contact_id)
    overrides = await template_repository.overrides_for(session, tenant_id, "magic_link", template_locale(req.locale))
    draft = deps.composer.magic_link(contact.name if contact else req.email.split("@")[0], req.email,
                                     req.link_url, req.expires_at, req.locale, overrides)
    now: datetime = deps.clock.now()
    provider = deps.registry.choose(tenant_id, "email", await deps.accounts_of(session, tenant_id))
    await repository.insert_message(session, {
        "id": new_id(), "tenant_id": tenant_id, "touchpoint_id": req.request_id, "customer_id": req.customer_id,
        "contact_id": req.contact_id, "channel": "email", "provider": provider,
        "state": State.QUEUED, "to_address": req.email, "template_key": "magic_link", "locale": req.locale,
        "subject": draft.subject, "body_text": draft.body_text, "body_html": draft.body_html, "invoice_ids": [],
        "touchpoint": None, "correlation_id": envelope.correlation_id, "created_at": now, "updated_at": now,
        "next_attempt_at": now})
