"""Hand-built bulk outbox records decode to exactly the event the regular path would emit."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import UUID, uuid4

from rapport_shared.bus import codec
from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.invoice import InvoiceIssuedV1, InvoiceUpdatedV1

from rapport_ingest.domain.invoice_rows import InvoiceRow
from rapport_ingest.service_layer.bulk_events import EventBuilder, uuid7_strings
from rapport_ingest.service_layer.invoice_import import InvoiceWriter, _Chunk

AT = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def _row(**changes) -> InvoiceRow:
    values = dict(row=1, number="INV-9", customer_external_id="C-9", customer_name=None, issue_date=date(2026, 1, 1),
                  due_date=date(2026, 1, 31), currency="EUR", amount=Decimal("12.5"), tax_amount=Decimal("2.08"),
                  po_number='PO "7"', terms="Net 30", pdf_url=None, lines=None, updated_at=None)
    return InvoiceRow(**{**values, **changes})


def _issued(tenant: UUID, job: UUID, row: InvoiceRow) -> tuple[tuple, tuple, UUID]:
    writer, customer_id = InvoiceWriter(tenant, job, "p.invoice"), uuid4()
    writer._remember(row.customer_external_id, customer_id)
    chunk = _Chunk(EventBuilder("p.invoice", tenant, job, AT), iter(uuid7_strings(2, AT)))
    writer._issue(chunk, row)
    return chunk.inserts[0], chunk.events[0], customer_id


def test_bulk_record_matches_the_regular_envelope_field_for_field():
    tenant, job = uuid4(), uuid4()
    inserted, record, customer_id = _issued(tenant, job, _row())
    event_id, event_type, topic, lane, key, value = record
    decoded = codec.decode(value)
    # The regular path reads the amounts back from numeric(20,4), hence four decimals.
    payload = InvoiceIssuedV1(invoice_id=UUID(inserted[0]), customer_id=customer_id, customer_external_id="C-9",
                              number="INV-9", issue_date=date(2026, 1, 1), due_date=date(2026, 1, 31), currency="EUR",
                              amount_total=Decimal("12.5000"), tax_amount=Decimal("2.0800"),
                              open_amount=Decimal("12.5000"),
                              status="open", po_number='PO "7"', terms="Net 30", version=1)
    regular = make_event(payload, source=decoded.source, tenant_id=tenant, customer_key=customer_id,
                         correlation_id=job, time=AT)
    assert decoded.payload() == payload and decoded.data == regular.data
    assert decoded.model_dump(exclude={"id"}) == regular.model_dump(exclude={"id"})
    expected = Outbox("ingest", TopicNames("p.")).row(decoded)
    assert (UUID(event_id), event_type, lane, key) == (
        expected["event_id"], expected["event_type"], expected["lane"], expected["key"])
    assert topic == "p.invoice" and decoded.id == UUID(event_id)


def test_a_zero_invoice_is_issued_with_the_ledgers_status_for_nothing_owed():
    inserted, record, _ = _issued(uuid4(), uuid4(), _row(amount=Decimal(0)))
    assert inserted[10] == "credited" and codec.decode(record[-1]).data["status"] == "credited"


def test_batch_ids_are_distinct_uuid7_carrying_the_timestamp():
    ids = [UUID(text) for text in uuid7_strings(1000, AT)]
    assert len(set(ids)) == 1000
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert {i.int >> 80 for i in ids} == {int(AT.timestamp() * 1000)}


def test_an_updated_row_becomes_an_updated_event_with_the_next_version():
    tenant, job = uuid4(), uuid4()
    writer, customer_id, invoice_id = InvoiceWriter(tenant, job, "invoice"), uuid4(), uuid4()
    writer._remember("C-9", customer_id)
    chunk = _Chunk(EventBuilder("invoice", tenant, job, AT), iter(uuid7_strings(2, AT)))
    stored = {"id": invoice_id, "customer_id": customer_id, "status": "partially_paid", "issue_date": date(2026, 1, 1),
              "due_date": date(2026, 1, 31), "currency": "EUR", "amount_total": Decimal("12.5000"),
              "tax_amount": Decimal("2.0800"), "paid_amount": Decimal("5"), "credited_amount": Decimal(0),
              "written_off_amount": Decimal(0), "po_number": None, "terms": "Net 30", "pdf_url": None, "lines": "[]",
              "source_updated_at": None, "version": 3, "paid_at": None, "import_job_id": None}
    writer._change(chunk, _row(amount=Decimal("20")), stored)
    payload = codec.decode(chunk.events[0][-1]).payload()
    assert isinstance(payload, InvoiceUpdatedV1)
    assert (payload.version, payload.open_amount, payload.status, payload.invoice_id) == (
        4, Decimal(15), "partially_paid", invoice_id)
    assert chunk.updates[0][6:8] == (Decimal(15), "partially_paid")
