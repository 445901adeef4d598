"""The one event envelope: CloudEvents attribute names plus tenancy and tracing ids."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

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

    # The payload validated by ``codec.decode``; not part of the event's value (see _Validated).
    _validated: _Validated | None = PrivateAttr(default=None)

    def payload(self) -> EventPayload:
        """The typed payload, validated against the registered model for ``type``.

        An envelope that came through ``codec.decode`` was validated there already; that
        result is returned (payloads are frozen), as long as ``data`` is still the same dict.
        """
        validated = self._validated
        if validated is not None and validated.data is self.data:
            return validated.payload
        from rapport_shared.contracts.registry import payload_class

        return payload_class(self.type).model_validate(self.data)

    def remember_payload(self, payload: EventPayload) -> None:
        """Keep ``payload``, validated from this envelope's ``data``, for :meth:`payload`."""
        self._validated = _Validated(self.data, payload)


class _Validated:
    """A validated payload beside the ``data`` dict it came from.

    Equal to any other cache (or none): pydantic compares private attributes in ``==``, and
    whether an envelope was decoded or built must not change whether two envelopes are equal.
    """

    __slots__ = ("data", "payload")

    def __init__(self, data: dict[str, Any], payload: EventPayload) -> None:
        self.data, self.payload = data, payload

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, _Validated)

    __hash__ = None  # type: ignore[assignment]


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
