"""Topic ``outreach`` (emitted by outreach): what happened to each message."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from rapport_shared.contracts.base import EventPayload

MessageChannel = Literal["email", "sms", "call", "voice", "internal", "agency"]


class MessageOutcome(EventPayload):
    message_id: UUID
    touchpoint_id: UUID | None = None
    customer_id: UUID
    contact_id: UUID | None = None
    channel: MessageChannel
    provider: str
    occurred_at: datetime
    invoice_ids: list[UUID] = []
    template_key: str | None = None
    detail: str | None = None


class MessageSentV1(MessageOutcome):
    """The provider accepted the message."""

    event_type: ClassVar[str] = "rapport.outreach.sent.v1"
    topic: ClassVar[str] = "outreach"

    subject: str | None = None
    preview: str | None = None
    provider_message_id: str | None = None


class MessageDeliveredV1(MessageOutcome):
    event_type: ClassVar[str] = "rapport.outreach.delivered.v1"
    topic: ClassVar[str] = "outreach"


class MessageOpenedV1(MessageOutcome):
    event_type: ClassVar[str] = "rapport.outreach.opened.v1"
    topic: ClassVar[str] = "outreach"


class MessageClickedV1(MessageOutcome):
    event_type: ClassVar[str] = "rapport.outreach.clicked.v1"
    topic: ClassVar[str] = "outreach"

    url: str | None = None


class MessageBouncedV1(MessageOutcome):
    event_type: ClassVar[str] = "rapport.outreach.bounced.v1"
    topic: ClassVar[str] = "outreach"

    hard: bool = True


class MessageFailedV1(MessageOutcome):
    """The message could not be sent after every attempt (dead-lettered)."""

    event_type: ClassVar[str] = "rapport.outreach.failed.v1"
    topic: ClassVar[str] = "outreach"

    attempts: int = 1


class MessageUncertainV1(MessageOutcome):
    """A send may or may not have reached the provider; a human must check, never a resend."""

    event_type: ClassVar[str] = "rapport.outreach.uncertain.v1"
    topic: ClassVar[str] = "outreach"


class MessageSettledV1(MessageOutcome):
    """A collector settled an uncertain message: it was sent after all, or it was not and may be sent once more.

    Closes the review the matching ``MessageUncertainV1`` opened. ``settled_by`` names the person.
    """

    event_type: ClassVar[str] = "rapport.outreach.settled.v1"
    topic: ClassVar[str] = "outreach"

    resolution: Literal["sent", "not_sent"]
    settled_by: str
    note: str | None = None


class ReplyReceivedV1(MessageOutcome):
    """The customer answered (email reply or SMS)."""

    event_type: ClassVar[str] = "rapport.outreach.replied.v1"
    topic: ClassVar[str] = "outreach"

    body_excerpt: str | None = None
    from_address: str | None = None


class ChannelSuppressedV1(EventPayload):
    """A contact's channel may no longer be used (STOP, unsubscribe, hard bounce, spam report)."""

    event_type: ClassVar[str] = "rapport.outreach.suppressed.v1"
    topic: ClassVar[str] = "outreach"

    customer_id: UUID
    contact_id: UUID | None = None
    channel: MessageChannel
    address: str
    reason: Literal["stop", "unsubscribe", "hard_bounce", "spam_report", "manual"]
    occurred_at: datetime


class CallTaskRequestedV1(MessageOutcome):
    """Outreach asks the scheduler for a human call (call step, or a suppressed channel)."""

    event_type: ClassVar[str] = "rapport.outreach.call_task_requested.v1"
    topic: ClassVar[str] = "outreach"

    reason: str
