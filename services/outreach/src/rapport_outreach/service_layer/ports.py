"""What the service layer needs from a provider, and the three ways a send can go wrong."""
from __future__ import annotations

from typing import Protocol

from rapport_outreach.domain.model import Outgoing


class SendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableSendError(SendError):
    """The provider refused for now (429, 5xx, unreachable): safe to try again later."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class PermanentSendError(SendError):
    """The provider rejected the message itself (4xx): retrying cannot help."""


class AmbiguousSendError(SendError):
    """The request may have reached the provider (timeout after sending): never resend blindly."""


class Provider(Protocol):
    name: str

    async def send(self, message: Outgoing) -> str | None:
        """Hand one message over; returns the provider's message id when it gives one."""
        ...
