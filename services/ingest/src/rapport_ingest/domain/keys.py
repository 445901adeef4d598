"""API keys: a public prefix to find the row, a secret stored only as its SHA-256."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

Scope = Literal["read", "write", "admin"]
_RANK = {"read": 0, "write": 1, "admin": 2}
KEY_PREFIX = "rk_"


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    secret_hash: str
    plaintext: str


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


def allows(granted: str, needed: Scope) -> bool:
    return _RANK.get(granted, -1) >= _RANK[needed]
