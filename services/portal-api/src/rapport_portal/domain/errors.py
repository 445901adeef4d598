"""Errors the portal's user can act on; the API maps each kind to one HTTP status in one place."""
from __future__ import annotations


class PortalError(Exception):
    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class NotFound(PortalError):
    """The thing does not exist *for this contact* (another customer's data looks the same)."""


class Invalid(PortalError):
    """The request breaks a rule; ``field`` names what to fix."""


class Conflict(PortalError):
    """The request is valid but the current state forbids it (already disputed, already used...)."""


class Unauthorized(PortalError):
    """No valid session or link."""


class RateLimited(PortalError):
    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class PaymentProviderError(PortalError):
    """The payment processor refused or could not be reached."""
