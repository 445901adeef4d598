"""Errors the caller can act on; the API maps each kind to one HTTP status in one place."""
from __future__ import annotations


class LedgerError(Exception):
    """Base: ``field`` names what was wrong (if one field), ``reason`` says why."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


class Invalid(LedgerError):
    """The request is well-formed but the ledger cannot accept it (422)."""


class NotFound(LedgerError):
    """No such object for this tenant (404); never says whether another tenant has it."""


class Conflict(LedgerError):
    """The request contradicts what the ledger already holds (409)."""


class Forbidden(LedgerError):
    """The API key's scope does not allow this (403)."""
