"""The one event envelope: CloudEvents attribute names plus tenancy and tracing ids."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from rapport_shared.contracts.base import EventPayload
from rapport_shared.ids import new_id
from rapport_shared.time import utcnow


class Envelope(BaseModel):
    """An event as it travels on Kafka.

    ``partitionkey`` (a CloudEvents extension) is ``<tenant_id>:<customer_id>`` so that
    all events of one customer land on one partition, in order.
    """

    model_config = ConfigDict(frozen=True)

    specversion: str = "1.0"
    id: UUID = Field(default_factory=new_id)
    type: str
    source: str
    time: datetime = Field(default_factory=utcnow)
    subject: str | None = None
    datacontenttype: str = "application/json"
    tenant_id: UUID
    correlation_id: UUID
    causation_id: UUID | None = None
    partitionkey: str
    data: dict[str, Any]

    def payload(self) -> EventPayload:
        """The typed payload, validated against the registered model for ``type``."""
        from rapport_shared.contracts.registry import payload_class

        return payload_class(self.type).model_validate(self.data)


def make_event(
    payload: EventPayload,
    *,
    source: str,
    tenant_id: UUID,
    customer_key: str | UUID,
    correlation_id: UUID | None = None,
    causation: Envelope | None = None,
    subject: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap a payload; a caused event inherits the correlation id of its cause."""
    event_id = new_id()
    correlation = correlation_id or (causation.correlation_id if causation else event_id)
    return Envelope(
        id=event_id,
        type=payload.event_type,
        source=source,
        time=time or utcnow(),
        subject=subject,
        tenant_id=tenant_id,
        correlation_id=correlation,
        causation_id=causation.id if causation else None,
        partitionkey=f"{tenant_id}:{customer_key}",
        data=payload.model_dump(mode="json"),
    )
