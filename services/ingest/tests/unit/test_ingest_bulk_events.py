"""Hand-built bulk outbox records decode to exactly the event the regular path would emit."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import uuid4

from rapport_shared.bus import codec
from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import InvoiceIssuedV1, InvoiceUpdatedV1

from rapport_ingest.service_layer.bulk_events import invoice_record


def test_bulk_record_matches_the_regular_envelope_field_for_field():
    tenant, at, job = uuid4(), datetime(2026, 3, 1, 12, tzinfo=timezone.utc), uuid4()
    row = {"id": uuid4(), "customer_id": uuid4(), "number": "INV-9", "issue_date": date(2026, 1, 1),
           "due_date": date(2026, 1, 31), "currency": "EUR", "amount_total": Decimal("12.5000"),
           "tax_amount": Decimal("0.0000"), "open_amount": Decimal("12.5000"), "status": "open", "po_number": None,
           "terms": "Net 30", "pdf_url": None, "version": 1, "inserted": True}
    topics = TopicNames("p.")
    event_id, event_type, topic, lane, key, value = invoice_record(topics, tenant, row, "C-9", correlation_id=job, at=at)
    decoded = codec.decode(value)
    payload = InvoiceIssuedV1(invoice_id=row["id"], customer_id=row["customer_id"], customer_external_id="C-9",
                              number="INV-9", issue_date=row["issue_date"], due_date=row["due_date"], currency="EUR",
                              amount_total=row["amount_total"], tax_amount=row["tax_amount"],
                              open_amount=row["open_amount"], status="open", terms="Net 30", version=1)
    regular = make_event(payload, source=decoded.source, tenant_id=tenant, customer_key=row["customer_id"],
                         correlation_id=job, time=at)
    assert decoded.payload() == payload and decoded.data == regular.data
    assert decoded.model_dump(exclude={"id"}) == regular.model_dump(exclude={"id"})
    expected = Outbox("ingest", topics).row(decoded)
    assert (event_id, event_type, topic, lane, key) == (
        expected["event_id"], expected["event_type"], expected["topic"], expected["lane"], expected["key"])


def test_an_updated_row_becomes_an_updated_event():
    row = {"id": uuid4(), "customer_id": uuid4(), "number": "X", "issue_date": date(2026, 1, 1),
           "due_date": date(2026, 1, 2), "currency": "USD", "amount_total": Decimal("1"), "tax_amount": Decimal("0"),
           "open_amount": Decimal("1"), "status": "open", "po_number": None, "terms": None, "pdf_url": None,
           "version": 4, "inserted": False}
    record = invoice_record(TopicNames(""), uuid4(), row, None, correlation_id=uuid4(), at=datetime.now(timezone.utc))
    decoded = codec.decode(record[-1])
    assert isinstance(decoded.payload(), InvoiceUpdatedV1) and decoded.payload().version == 4
    assert record[2] == "invoice"


def test_batch_ids_are_distinct_uuid7_carrying_the_timestamp():
    from rapport_ingest.service_layer.bulk_events import uuid7_batch

    at = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    ids = uuid7_batch(1000, at)
    assert len(set(ids)) == 1000
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert {i.int >> 80 for i in ids} == {int(at.timestamp() * 1000)}
