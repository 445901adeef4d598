"""API keys of the outreach API: a public prefix finds the row, the secret is kept only as its SHA-256.

A key belongs to one tenant and carries a scope: ``read`` (message log, templates, preview),
``write`` (also save/delete templates, settle uncertain messages) or ``admin`` (also the tenant's
provider accounts and their secrets).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[str, ...] = ("read", "write", "admin")
KEY_PREFIX = "rok_"  # rapport outreach key


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    secret_hash: str
    plaintext: str  # shown once, to the admin who created it

    def __repr__(self) -> str:  # the plaintext never reaches a log line
        return f"IssuedKey(prefix={self.prefix!r})"


@dataclass(frozen=True)
class Caller:
    tenant_id: UUID
    scope: str
    who: str  # "key:<prefix>" or "operator"


def issue() -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(prefix, hash_secret(secret), f"{KEY_PREFIX}{prefix}_{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(plaintext: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    prefix, _, secret = plaintext[len(KEY_PREFIX):].partition("_")
    return (prefix, secret) if prefix and secret else None


def matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def allows(granted: str, needed: str) -> bool:
    return granted in SCOPES and SCOPES.index(granted) >= SCOPES.index(needed)
