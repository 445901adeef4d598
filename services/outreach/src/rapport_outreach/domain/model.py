"""Messages, their states, and the policies that decide channel, retry and fate of a send."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    BOUNCED = "bounced"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SUPPRESSED = "suppressed"
    TASK = "task_requested"


SENDABLE_CHANNELS = ("email", "sms", "voice")
# How far a provider event moves a message; a late "delivered" never undoes an "opened".
PROGRESS = {State.SENT: 1, State.DELIVERED: 2, State.OPENED: 3, State.CLICKED: 4}


@dataclass(frozen=True)
class Draft:
    """A rendered message ready to be queued."""

    channel: str
    to_address: str
    subject: str | None
    body_text: str
    body_html: str | None


@dataclass(frozen=True)
class Outgoing:
    """What a provider needs to send one message."""

    message_id: UUID
    tenant_id: UUID
    channel: str
    to_address: str
    subject: str | None
    body_text: str
    body_html: str | None
    template_key: str | None = None
    to_name: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    locale: str | None = None


def address_for(channel: str, email: str | None, phone: str | None) -> str | None:
    return {"email": email, "sms": phone, "voice": phone}.get(channel)


def normalise_address(channel: str, address: str) -> str:
    """Suppression keys: e-mail case-insensitive, phone numbers without spaces."""
    if channel == "email":
        return address.strip().lower()
    return "".join(c for c in address if c.isdigit() or c == "+")


def plan_channels(primary: str, fallbacks: list[str], usable: set[str]) -> str | None:
    """The first channel in order that can still be used; None means hand over to a human call."""
    for channel in [primary, *fallbacks]:
        if channel in usable:
            return channel
    return None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 300.0

    def next_attempt(self, now: datetime, attempts: int, retry_after_s: float | None,
                     rng: random.Random | None = None) -> datetime | None:
        """When to try again after ``attempts`` failed tries, or None when it is time to give up.

        Full jitter spreads a herd of retries; a provider's Retry-After is a floor, not a hint.
        """
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempts - 1))
        delay = (rng or random).uniform(0, ceiling)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return now + timedelta(seconds=delay)
