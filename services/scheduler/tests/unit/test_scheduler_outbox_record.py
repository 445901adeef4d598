"""The ticker's one-pass outbox rows carry exactly the envelope ``make_event`` would have made."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from rapport_shared.bus import codec
from rapport_shared.bus.outbox import Outbox
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.task import DunningStageChangedV1

from rapport_scheduler.service_layer import messages


def test_outbox_record_decodes_to_the_envelope_make_event_builds():
    topics = TopicNames("run7.")
    tenant, customer = uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)
    cause = make_event(DunningStageChangedV1(customer_id=customer, invoice_id=uuid.uuid4(), stage="due"),
                       source="ingest", tenant_id=tenant, customer_key=customer)
    payload = DunningStageChangedV1(customer_id=customer, invoice_id=uuid.uuid4(), stage="d+7", last_touch_at=now)

    event_id, event_type, topic, lane, key, value = messages.outbox_record(topics, payload, tenant, customer, now, cause)
    expected = make_event(payload, source=messages.SOURCE, tenant_id=tenant, customer_key=customer,
                          causation=cause, time=now)
    reference = Outbox("scheduler", topics).row(expected)

    decoded = codec.decode(value)
    assert decoded.model_dump(exclude={"id"}) == expected.model_dump(exclude={"id"})
    assert decoded.id == event_id and decoded.payload() == payload
    assert (event_type, topic, lane, key) == (reference["event_type"], reference["topic"], reference["lane"],
                                              reference["key"])


def test_outbox_record_without_a_cause_starts_its_own_correlation():
    tenant, customer = uuid.uuid4(), uuid.uuid4()
    payload = DunningStageChangedV1(customer_id=customer, invoice_id=uuid.uuid4(), stage="due")
    event_id, *_, value = messages.outbox_record(TopicNames(""), payload, tenant, customer,
                                                 datetime(2026, 1, 1, tzinfo=timezone.utc))
    decoded = codec.decode(value)
    assert decoded.correlation_id == event_id and decoded.causation_id is None
    assert decoded.partitionkey == f"{tenant}:{customer}"
