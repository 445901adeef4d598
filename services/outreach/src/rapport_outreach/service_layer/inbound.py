"""Answers from customers (Inbound Parse e-mail, inbound SMS), matched to the right tenant and message.

Several tenants may write to the same person (one AP clerk serves many suppliers), so an address
alone never decides when it fits more than one tenant: the reply token, the thread headers, the
tenant's own sender (reply domain, Twilio messaging service or account) narrow it down, and what
stays ambiguous is reported as such instead of guessed.
"""
from __future__ import annotations

import re
from email.utils import getaddresses, parseaddr
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.observability import get_logger

from rapport_outreach.adapters import repository
from rapport_outreach.domain.model import normalise_address
from rapport_outreach.service_layer.handlers import Deps
from rapport_outreach.service_layer.webhooks import reply, suppress

log = get_logger(__name__)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "ARRET", "ARRÊT"}
START_WORDS = {"START", "UNSTOP", "YES"}
REPLY_ADDRESS = re.compile(r"reply\+([0-9a-fA-F-]{36})@")
THREAD_HEADER = re.compile(r"^(?:in-reply-to|references):(.*(?:\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


async def inbound_email(session: AsyncSession, deps: Deps, from_header: str, to_header: str, text: str,
                        provider_event_id: str, headers: str = "") -> str:
    """Matched by the reply address, else the thread headers, else the sender within the tenants it fits."""
    sender = parseaddr(from_header)[1].lower()
    row = await _by_reply_address(session, to_header) or await _by_thread(session, headers)
    if row is None and sender:
        tenants = await _tenants_by_reply_domain(session, deps, to_header)
        rows = await repository.latest_per_tenant(session, "email", sender, only=tenants)
        if len(rows) > 1:
            log.warning("inbound e-mail fits several tenants; not attributed", tenants=len(rows))
            return "ambiguous"
        row = rows[0] if rows else None
    if row is None:
        return "unmatched"
    return await reply(session, deps, row, text, sender, provider_event_id)


async def _by_reply_address(session: AsyncSession, to_header: str):  # noqa: ANN202 - a Row or None
    match = REPLY_ADDRESS.search(to_header or "")
    return await repository.get_message(session, UUID(match.group(1))) if match else None


async def _by_thread(session: AsyncSession, headers: str):  # noqa: ANN202
    """Mail clients quote the Message-ID they answer in In-Reply-To / References."""
    for block in THREAD_HEADER.findall(headers or ""):
        for text in reversed(UUID_TEXT.findall(block)):  # the nearest ancestor is listed last
            row = await repository.get_message(session, UUID(text))
            if row is not None:
                return row
    return None


async def _tenants_by_reply_domain(session: AsyncSession, deps: Deps, to_header: str) -> list[UUID] | None:
    if not deps.accounts:
        return None
    domains = {addr.rpartition("@")[2].lower() for _, addr in getaddresses([to_header or ""]) if "@" in addr}
    tenants = [a.tenant_id for d in domains for a in await deps.accounts.where(session, ("sendgrid",), "reply_domain", d)]
    return tenants or None


async def inbound_sms(session: AsyncSession, deps: Deps, form: dict[str, str]) -> str:
    """An SMS from a contact: an opt-out keyword, an opt-in keyword, or a reply to the tenant's last message."""
    address = normalise_address("sms", form["From"])
    rows = await _sms_candidates(session, deps, address, form)
    if not rows:
        return "unmatched"
    body, sid = form.get("Body", ""), form.get("MessageSid", "")
    word = body.strip().split(maxsplit=1)[0].upper() if body.strip() else ""
    now = deps.clock.now()
    if word in STOP_WORDS:
        # The carrier blocks the whole sender for this number, so every tenant sending through it stops.
        for row in rows:
            await repository.add_event(session, row.id, row.tenant_id, "stop", now, f"sms-in:{sid}:{row.tenant_id}",
                                       body[:200])
            await suppress(session, deps, row, "stop", now, address)
        return "suppressed"
    if word in START_WORDS:
        for row in rows:
            await repository.remove_suppression(session, row.tenant_id, "sms", address, "stop")
        return "resubscribed"
    if len(rows) > 1:
        log.warning("inbound sms fits several tenants; not attributed", tenants=len(rows))
        return "ambiguous"
    return await reply(session, deps, rows[0], body, form["From"], f"sms-in:{sid}")


async def _sms_candidates(session: AsyncSession, deps: Deps, address: str, form: dict[str, str]) -> list:
    """A tenant's own messaging service or account names it; the shared one leaves those tenants out."""
    if not deps.accounts:
        return await repository.latest_per_tenant(session, "sms", address)
    for setting, field in (("messaging_service_sid", "MessagingServiceSid"), ("account_sid", "AccountSid")):
        if form.get(field):
            own = await deps.accounts.where(session, ("twilio",), setting, form[field])
            if own:
                return await repository.latest_per_tenant(session, "sms", address, only=[a.tenant_id for a in own])
    others = await deps.accounts.tenants_with(session, "sms")
    return await repository.latest_per_tenant(session, "sms", address, exclude=others)


async def twilio_tokens(session: AsyncSession, deps: Deps, account_sid: str | None) -> list[str]:
    """Auth tokens that may have signed a Twilio request: those of tenants' own accounts with this sid."""
    if not (deps.accounts and account_sid):
        return []
    own = await deps.accounts.where(session, ("twilio", "twilio_voice"), "account_sid", account_sid)
    return [a.secrets["auth_token"] for a in own if a.secrets.get("auth_token")]
