"""Errors the outreach domain raises; entry points map them to HTTP statuses in one place."""
from __future__ import annotations


class OutreachError(Exception):
    """Base class; ``field`` names what the caller should fix."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class TemplateInvalid(OutreachError):
    """A template that does not parse or uses a variable the renderer does not provide."""


class SmsTooLong(OutreachError):
    """An SMS text that would cost more segments than allowed."""


class NotFound(OutreachError):
    """The thing asked for does not exist for this tenant."""


class Conflict(OutreachError):
    """The request is valid but the thing is not in a state that allows it."""
