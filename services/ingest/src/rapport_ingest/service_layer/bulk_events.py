"""Outbox records for bulk-imported invoices, built without a pydantic round trip per row.

The bytes decode (``codec.decode``) to the same envelope the regular path makes with
``make_event(InvoiceIssuedV1(...))``; a unit test holds them to that. The envelope's fixed
attributes are rendered once per chunk and only ``data`` goes through a JSON encoder.
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from rapport_shared.contracts.invoice import InvoiceIssuedV1, InvoiceUpdatedV1

from rapport_ingest.service_layer.unit_of_work import SOURCE

ISSUED, UPDATED = InvoiceIssuedV1.event_type, InvoiceUpdatedV1.event_type
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def uuid7_strings(count: int, at: datetime) -> list[str]:
    """``count`` UUIDv7 (as text) sharing ``at``'s millisecond and one ``urandom`` call; minting
    ``UUID`` objects one by one cost more than the rest of the row's Python work."""
    millis = f"{int(at.timestamp() * 1000):012x}"
    head = f"{millis[:8]}-{millis[8:]}-7"
    entropy = os.urandom(10 * count).hex()
    return [f"{head}{r[:3]}-{_VARIANT[r[3]]}{r[4:7]}-{r[7:19]}"
            for r in (entropy[i:i + 20] for i in range(0, 20 * count, 20))]


def money(value: Any) -> str:
    """As the ledger's numeric(20,4) renders it (rows have at most four decimals by validation)."""
    return f"{value:.4f}"


class EventBuilder:
    """Outbox rows (event_id, event_type, topic, lane, key, value) for one chunk of one job."""

    def __init__(self, topic: str, tenant_id: UUID, job_id: UUID, at: datetime) -> None:
        self.topic = topic
        self._middle = (f'","source":"{SOURCE}","time":"{at.isoformat()}","subject":null,'
                        f'"datacontenttype":"application/json","tenant_id":"{tenant_id}",'
                        f'"correlation_id":"{job_id}","causation_id":null,"partitionkey":"')

    def record(self, event_id: str, event_type: str, partition_key: str, key: bytes, lane: int,
               data: dict[str, Any]) -> tuple:
        head = f'{{"specversion":"1.0","id":"{event_id}","type":"{event_type}{self._middle}{partition_key}","data":'
        return event_id, event_type, self.topic, lane, key, head.encode() + orjson.dumps(data) + b"}"
