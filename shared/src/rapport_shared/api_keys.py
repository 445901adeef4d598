"""API keys of every service's API: a public prefix finds the row, the secret is kept only as its SHA-256.

A key is ``<kind><prefix>_<secret>``; ``kind`` names the service that issued it (``rk_`` for
ingest, ``rok_`` for outreach) so a key pasted into the wrong service fails to parse. Scopes rank
``read`` < ``write`` < ``admin``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[str, ...] = ("read", "write", "admin")


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    secret_hash: str
    plaintext: str  # shown once, to the admin who created it

    def __repr__(self) -> str:  # the plaintext never reaches a log line
        return f"IssuedKey(prefix={self.prefix!r})"


def issue(kind: str) -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(prefix, hash_secret(secret), f"{kind}{prefix}_{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(plaintext: str, kind: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key of this kind, else None."""
    if not plaintext.startswith(kind):
        return None
    prefix, _, secret = plaintext[len(kind):].partition("_")
    return (prefix, secret) if prefix and secret else None


def matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def allows(granted: str, needed: str) -> bool:
    return granted in SCOPES and needed in SCOPES and SCOPES.index(granted) >= SCOPES.index(needed)
