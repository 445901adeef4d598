"""API keys of the outreach API: a public prefix finds the row, the secret is kept only as its SHA-256.

A key belongs to one tenant and carries a scope: ``read`` (message log, templates, preview),
``write`` (also save/delete templates, settle uncertain messages) or ``admin`` (also the tenant's
provider accounts and their secrets).
"""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from rapport_shared import api_keys
from rapport_shared.api_keys import SCOPES, IssuedKey, Scope, allows, hash_secret, matches

__all__ = ["SCOPES", "Caller", "IssuedKey", "KEY_PREFIX", "Scope", "allows", "hash_secret", "issue", "matches", "split"]
KEY_PREFIX = "rok_"  # rapport outreach key


@dataclass(frozen=True)
class Caller:
    tenant_id: UUID
    scope: str
    who: str  # "key:<prefix>" or "operator"


def issue() -> IssuedKey:
    return api_keys.issue(KEY_PREFIX)


def split(plaintext: str) -> tuple[str, str] | None:
    return api_keys.split(plaintext, KEY_PREFIX)
