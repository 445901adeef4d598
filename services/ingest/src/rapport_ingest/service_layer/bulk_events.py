"""Outbox records for bulk-imported invoices, built without a pydantic round trip per row.

The bytes are exactly what ``codec.encode(make_event(InvoiceIssuedV1(...)))`` would carry
(a unit test decodes them with the codec and compares); building them by hand is what
lets an import publish hundreds of thousands of events a minute.
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any
from uuid import UUID

from rapport_shared.bus.outbox import lane_of
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.invoice import InvoiceIssuedV1, InvoiceUpdatedV1

from rapport_ingest.service_layer.unit_of_work import SOURCE


def uuid7_batch(count: int, at: datetime) -> list[UUID]:
    """``count`` UUIDv7 sharing one timestamp and one ``urandom`` call: minting ids one by one
    cost more than the rest of the bulk path together."""
    millis = int(at.timestamp() * 1000) << 80
    entropy = os.urandom(10 * count)
    ids = []
    for i in range(count):
        bits = int.from_bytes(entropy[10 * i:10 * i + 10], "big")
        rand_a, rand_b = (bits >> 68) & 0xFFF, bits & ((1 << 62) - 1)
        ids.append(UUID(int=millis | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b))
    return ids


def _money(value: Any) -> str:
    return format(value, "f")


def invoice_data(row: Any, customer_external_id: str | None) -> dict[str, Any]:
    return {
        "invoice_id": str(row["id"]), "customer_id": str(row["customer_id"]),
        "customer_external_id": customer_external_id, "number": row["number"],
        "issue_date": row["issue_date"].isoformat(), "due_date": row["due_date"].isoformat(),
        "currency": row["currency"], "amount_total": _money(row["amount_total"]),
        "tax_amount": _money(row["tax_amount"]), "open_amount": _money(row["open_amount"]),
        "status": row["status"], "po_number": row["po_number"], "terms": row["terms"],
        "pdf_url": row["pdf_url"], "paid_at": None, "version": row["version"],
    }


def invoice_record(
    topics: TopicNames, tenant_id: UUID, row: Any, customer_external_id: str | None, *,
    correlation_id: UUID, at: datetime, event_id: UUID | None = None,
) -> tuple:
    """One outbox row (event_id, event_type, topic, lane, key, value) for an issued or updated invoice."""
    payload = InvoiceIssuedV1 if row["inserted"] else InvoiceUpdatedV1
    event_id = event_id or uuid7_batch(1, at)[0]
    partition_key = f"{tenant_id}:{row['customer_id']}"
    key = partition_key.encode()
    # The envelope's fixed attributes are written as JSON literals; only ``data`` goes through json.dumps.
    value = (
        f'{{"specversion":"1.0","id":"{event_id}","type":"{payload.event_type}","source":"{SOURCE}",'
        f'"time":"{at.isoformat()}","subject":null,"datacontenttype":"application/json",'
        f'"tenant_id":"{tenant_id}","correlation_id":"{correlation_id}","causation_id":null,'
        f'"partitionkey":"{partition_key}","data":{json.dumps(invoice_data(row, customer_external_id), separators=(",", ":"))}}}'
    ).encode()
    return event_id, payload.event_type, topics(payload.topic), lane_of(key), key, value
