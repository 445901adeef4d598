"""A time-travelling scheduler's send window is read on outreach's own clock."""
from datetime import datetime, timedelta, timezone

from rapport_outreach.service_layer.handlers import on_wall_clock

WALL = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_window_of_a_scheduler_thirty_days_ahead_moves_back_to_wall_time(make_touchpoint):
    ahead = timedelta(days=30)
    tp = make_touchpoint(send_not_before=WALL + ahead, send_not_after=WALL + ahead + timedelta(hours=8),
                         clock_offset_seconds=ahead.total_seconds())
    moved = on_wall_clock(tp)
    assert (moved.send_not_before, moved.send_not_after) == (WALL, WALL + timedelta(hours=8))
    assert moved.touchpoint_id == tp.touchpoint_id


def test_window_without_time_travel_is_untouched(make_touchpoint):
    tp = make_touchpoint(send_not_before=WALL, send_not_after=WALL + timedelta(hours=8))
    assert on_wall_clock(tp) is tp
