"""Magic links, sessions and sign-in rate limits."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from rapport_shared.contracts import portal_link
from rapport_shared.contracts.portal import MagicLinkRequestedV1
from rapport_shared.ids import new_id
from rapport_shared.observability import get_logger

from rapport_portal.adapters import portal_state, queries
from rapport_portal.domain.errors import NotFound, Unauthorized
from rapport_portal.domain.ratelimit import RateLimit
from rapport_portal.service_layer.context import Portal, Principal

log = get_logger(__name__)


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime
    principal: Principal


def token_hash(token: str) -> str:
    """Only the hash of a session token is stored, so a database leak yields no usable session."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(portal: Portal, token: str) -> str:
    return f"{portal.base_url.rstrip('/')}/portal/login?token={quote(token)}"


def mint_link(portal: Portal, tenant_id, customer_id, contact_id) -> tuple[str, datetime]:
    expires_at = portal.clock.now() + timedelta(minutes=portal.link_ttl_minutes)
    return portal_link.mint(portal.link_secret, tenant_id, customer_id, contact_id, expires_at), expires_at


async def admin_mint_link(portal: Portal, tenant_id, contact_id) -> tuple[str, str, datetime]:
    async with portal.unit_of_work() as session:
        contact = await queries.contact_any_customer(session, tenant_id, contact_id)
    if contact is None:
        raise NotFound("no such contact in this tenant", "contact_id")
    token, expires_at = mint_link(portal, tenant_id, contact["customer_id"], contact_id)
    return token, link_url(portal, token), expires_at


async def request_magic_link(portal: Portal, email: str, ip: str | None) -> str:
    """Count the attempt against the sign-in budgets (429 when spent) and return the normalised address.

    Nothing here depends on whether the address belongs to anyone: the lookup and the sending
    happen in ``send_magic_links``, which the routes run after the response has gone out, so
    neither the answer nor its timing tells a caller whether an address is known.
    """
    email = email.strip().lower()
    await count_attempt(portal, portal.login_per_ip, ip or "unknown")
    await count_attempt(portal, portal.login_per_email, email)
    return email


async def send_magic_links(portal: Portal, email: str, ip: str | None) -> int:
    """Send a link to every active contact with this address; returns how many went out.

    Runs after the response: a failure is logged, never shown to the caller (who can ask again).
    """
    try:
        async with portal.unit_of_work() as session:
            contacts = await queries.contacts_by_email(session, email)
            for contact in contacts:
                token, expires_at = mint_link(portal, contact["tenant_id"], contact["customer_id"], contact["contact_id"])
                who = Principal(contact["tenant_id"], contact["customer_id"], contact["contact_id"], "", "", ip)
                await portal.emit(session, who, MagicLinkRequestedV1(
                    request_id=new_id(), customer_id=who.customer_id, contact_id=who.contact_id,
                    requested_at=portal.clock.now(), email=email, link_url=link_url(portal, token),
                    locale=contact["locale"] or "en", expires_at=expires_at,
                ))
                await portal.audit(session, who, "magic_link_requested")
        return len(contacts)
    except Exception as exc:  # noqa: BLE001 - the answer has gone; the caller may simply ask again
        log.error("magic link could not be sent", error=repr(exc), ip=ip)
        return 0


async def exchange(portal: Portal, token: str, ip: str | None) -> NewSession:
    """Trade a magic link for a session, once."""
    await count_attempt(portal, portal.login_per_ip, ip or "unknown")
    now = portal.clock.now()
    try:
        claims = portal_link.verify(portal.link_secret, token, now)
    except portal_link.InvalidPortalToken as exc:
        log.info("portal sign-in refused", reason=str(exc), ip=ip)  # never the token itself
        raise Unauthorized(f"sign-in link refused: {exc}") from None
    async with portal.unit_of_work() as session:
        if not await portal_state.claim_link(session, claims.nonce, claims.tenant_id, claims.contact_id, now, claims.expires_at):
            log.info("portal sign-in refused", reason="already used", contact_id=str(claims.contact_id), ip=ip)
            raise Unauthorized("sign-in link refused: already used")
        scope = queries.Scope(claims.tenant_id, claims.customer_id)
        contact = await queries.contact(session, scope, claims.contact_id)
        if contact is None or not contact["active"]:
            raise Unauthorized("sign-in link refused: unknown contact")
        new = _new_session(portal, claims, ip)
        await portal_state.create_session(session, dict(
            token_hash=new.principal.session_hash, tenant_id=claims.tenant_id, customer_id=claims.customer_id,
            contact_id=claims.contact_id, csrf_token=new.csrf_token, created_at=now, expires_at=new.expires_at))
        await portal.audit(session, new.principal, "signed_in")
    log.info("portal sign-in", tenant_id=str(claims.tenant_id), contact_id=str(claims.contact_id), ip=ip)
    return new


def _new_session(portal: Portal, claims: portal_link.PortalClaims, ip: str | None) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires_at = portal.clock.now() + timedelta(minutes=portal.session_ttl_minutes)
    who = Principal(claims.tenant_id, claims.customer_id, claims.contact_id, token_hash(token), csrf, ip)
    return NewSession(token, csrf, expires_at, who)


async def count_attempt(portal: Portal, limit: RateLimit, subject: str) -> None:
    """Count a sign-in attempt in Postgres (shared by every worker); committed even when refused."""
    now = portal.clock.now()
    start = limit.window_start(now)
    async with portal.unit_of_work() as session:
        current, previous = await portal_state.count_attempt(
            session, f"{limit.name}:{subject}", start, start - limit.window, start + 2 * limit.window)
        await portal_state.forget_old_attempts(session, now)
    limit.check(now, current, previous)


async def authenticate(portal: Portal, token: str, ip: str | None) -> Principal:
    """The live session behind a token, read from Postgres each time: revocation holds in every worker."""
    hashed = token_hash(token)
    row = await portal.hot.session(hashed, portal.clock.now())
    if row is None:
        raise Unauthorized("not signed in or session expired")
    return Principal(row["tenant_id"], row["customer_id"], row["contact_id"], hashed,
                     row["csrf_token"], ip, row["read_version"])


async def logout(portal: Portal, who: Principal) -> None:
    async with portal.unit_of_work() as session:
        await portal_state.revoke_session(session, who.session_hash, portal.clock.now())
        await portal.audit(session, who, "signed_out")
