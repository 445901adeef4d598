"""API keys of the ingest API (the format and hashing are shared: rapport_shared.api_keys)."""
from __future__ import annotations

from rapport_shared import api_keys
from rapport_shared.api_keys import IssuedKey, Scope, allows, hash_secret, matches

__all__ = ["IssuedKey", "KEY_PREFIX", "Scope", "allows", "hash_secret", "issue", "matches", "split"]
KEY_PREFIX = "rk_"


def issue() -> IssuedKey:
    return api_keys.issue(KEY_PREFIX)


def split(plaintext: str) -> tuple[str, str] | None:
    return api_keys.split(plaintext, KEY_PREFIX)
