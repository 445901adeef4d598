"""The signed portal magic-link token: minted by outreach or the portal, verified by the portal.

A token carries who it is for and until when; the portal also records its ``nonce`` on
first use so a link works once. The secret is ``RAPPORT_PORTAL_LINK_SECRET``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID, uuid4


class InvalidPortalToken(ValueError):
    """The token is malformed, forged or expired."""


@dataclass(frozen=True)
class PortalClaims:
    tenant_id: UUID
    customer_id: UUID
    contact_id: UUID
    expires_at: datetime
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def mint(secret: str, tenant_id: UUID, customer_id: UUID, contact_id: UUID, expires_at: datetime) -> str:
    claims = {"t": str(tenant_id), "c": str(customer_id), "p": str(contact_id),
              "e": int(expires_at.timestamp()), "n": uuid4().hex}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str, now: datetime) -> PortalClaims:
    try:
        body, signature = token.split(".", 1)
    except ValueError:
        raise InvalidPortalToken("malformed token") from None
    if not hmac.compare_digest(signature, _mac(secret, body)):
        raise InvalidPortalToken("bad signature")
    try:
        raw = json.loads(_unb64(body))
        claims = PortalClaims(UUID(raw["t"]), UUID(raw["c"]), UUID(raw["p"]),
                              datetime.fromtimestamp(raw["e"], tz=timezone.utc), str(raw["n"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidPortalToken("malformed token") from None
    if claims.expires_at <= now:
        raise InvalidPortalToken("expired")
    return claims
