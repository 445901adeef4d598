"""Touchpoints tell outreach how far the scheduler's clock has travelled."""
from datetime import timedelta

from rapport_shared.time import utcnow

from rapport_scheduler.service_layer.messages import travelled


def test_offset_is_the_distance_to_the_wall_clock_in_whole_seconds():
    assert travelled(utcnow() + timedelta(days=30)) == 30 * 86400
    assert travelled(utcnow()) == 0.0
    assert travelled(None) == 0.0
