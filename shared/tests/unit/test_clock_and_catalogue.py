from datetime import datetime, timedelta, timezone

import pytest

from rapport_shared.contracts.catalogue import CONSUMERS, TOPICS, TopicNames, all_topics
from rapport_shared.contracts.registry import REGISTRY
from rapport_shared.time import ManualClock, OffsetClock


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    clock.advance(timedelta(days=3))
    assert clock.now() == datetime(2026, 1, 4, tzinfo=timezone.utc)


def test_manual_clock_refuses_naive_times():
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))


def test_offset_clock_travels_forward():
    base = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    clock = OffsetClock(base=base)
    clock.advance(timedelta(days=120))
    assert clock.now() - base.now() == timedelta(days=120)


def test_every_event_type_belongs_to_a_catalogued_topic():
    topics = {t.name for t in TOPICS}
    assert {model.topic for model in REGISTRY.values()} <= topics


def test_every_consumed_topic_exists_and_every_consumer_has_a_dead_letter_topic():
    names = {t.name for t in all_topics()}
    for service, consumed in CONSUMERS.items():
        assert set(consumed) <= names
        assert f"dlq.{service}" in names


def test_prefix_applies_to_dead_letters_too():
    names = TopicNames("demo.")
    assert names("invoice") == "demo.invoice"
    assert names.dlq("scheduler") == "demo.dlq.scheduler"
