"""Packed outbox rows: many records of one topic and lane in one row, opened again in the same order."""
from hypothesis import given, strategies as st
import pytest

from rapport_shared.bus.outbox import PACKED, lane_of, pack, packed_rows, unpack

keys = st.one_of(st.none(), st.binary(max_size=40))
records = st.lists(st.tuples(keys, st.binary(max_size=300)), max_size=60)


@given(records)
def test_pack_then_unpack_gives_back_every_record_in_order(items):
    assert unpack("t", pack(items)) == [("t", key, value) for key, value in items]


def test_a_truncated_value_is_refused_not_half_read():
    data = pack([(b"k", b"value")])
    with pytest.raises(ValueError, match="truncated"):
        unpack("t", data[:-2] + b"\x00\x00\x00\x09")


def _row(n: int, topic: str, key: bytes | None) -> tuple:
    return (f"id-{n}", "rapport.invoice.issued.v1", topic, lane_of(key), key, f"event {n}".encode() * 3)


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([b"c1", b"c2", b"c3", None])), max_size=80),
       st.integers(min_value=1, max_value=400))
def test_packed_rows_keep_each_lanes_order_and_lose_nothing(picks, limit):
    rows = [_row(n, topic, key) for n, (topic, key) in enumerate(picks)]
    packed = packed_rows(rows, limit)
    opened = []  # what the relay sends, row after row
    for event_id, event_type, topic, lane, key, value in packed:
        if event_type == PACKED:
            members = unpack(topic, value)
            assert len(members) > 1
            assert all(lane_of(k) == lane for _, k, _ in members)
            opened += members
        else:
            opened.append((topic, key, value))
    assert sorted(opened, key=repr) == sorted(((r[2], r[4], r[5]) for r in rows), key=repr)
    for topic in ("a", "b"):
        for key in (b"c1", b"c2", b"c3", None):
            assert [v for t, k, v in opened if (t, k) == (topic, key)] == \
                [r[5] for r in rows if (r[2], r[4]) == (topic, key)]


def test_packed_rows_stay_near_the_size_limit_and_carry_their_first_event_id():
    rows = [_row(n, "a", b"same customer") for n in range(100)]  # ~60 bytes each with lengths and key
    packed = packed_rows(rows, limit=1000)
    assert len(packed) > 1
    assert all(row[1] == PACKED for row in packed[:-1])
    assert all(len(row[5]) < 1000 + 100 for row in packed)
    assert [row[0] for row in packed][0] == "id-0"
    assert len({row[0] for row in packed}) == len(packed)


def test_a_record_alone_in_its_lane_stays_a_row_of_its_own():
    rows = [_row(0, "a", b"x"), _row(1, "b", b"x")]  # same key, two topics
    assert packed_rows(rows) == rows


def test_opened_rows_lists_every_event_of_an_outbox_in_order_with_its_type():
    from rapport_shared.bus.outbox import opened_rows

    def event(n: int, kind: str) -> bytes:
        return b'{"type":"%s","n":%d}' % (kind.encode(), n)

    rows = [("id-0", "single.v1", "t", lane_of(b"k"), b"k", event(0, "single.v1"))]
    rows += [(f"id-{n}", "x", "t", lane_of(b"k"), b"k", event(n, f"kind{n % 2}.v1")) for n in range(1, 6)]
    stored = [(r[1], r[2], r[4], r[5]) for r in packed_rows(rows[:1]) + packed_rows(rows[1:])]
    assert [row[0] for row in stored] == ["single.v1", PACKED]
    assert opened_rows(stored) == [("single.v1", b"k", event(0, "single.v1"))] + [
        (f"kind{n % 2}.v1", b"k", event(n, f"kind{n % 2}.v1")) for n in range(1, 6)]
