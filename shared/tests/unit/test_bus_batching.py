from aiokafka.structs import ConsumerRecord
from sqlalchemy.exc import DBAPIError, OperationalError

from rapport_shared.bus.batch import cut_batches, is_transient


def record(partition: int, offset: int, size: int = 10) -> ConsumerRecord:
    return ConsumerRecord("t", partition, offset, 0, 0, b"k", b"x" * size, None, 1, size, [])


def offsets(batches):
    return [[(r.partition, r.offset) for r in batch] for batch in batches]


def test_batches_are_cut_by_count_and_keep_each_partitions_order():
    fetched = [[record(0, o) for o in range(5)], [record(1, o) for o in range(3)]]
    assert offsets(cut_batches(fetched, 3, 10_000)) == [
        [(0, 0), (0, 1), (0, 2)], [(0, 3), (0, 4), (1, 0)], [(1, 1), (1, 2)],
    ]


def test_batches_are_cut_by_bytes_and_an_oversized_record_travels_alone():
    fetched = [[record(0, 0, 40), record(0, 1, 40), record(0, 2, 500), record(0, 3, 10)]]
    # Each record weighs its value plus its one-byte key.
    assert offsets(cut_batches(fetched, 100, 100)) == [[(0, 0), (0, 1)], [(0, 2)], [(0, 3)]]


def test_batch_size_one_is_the_per_record_mode():
    fetched = [[record(0, o) for o in range(3)]]
    assert offsets(cut_batches(fetched, 1, 10_000)) == [[(0, 0)], [(0, 1)], [(0, 2)]]
    assert cut_batches([], 10, 10) == []


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_outages_and_lost_races_are_transient_but_bugs_are_not():
    assert is_transient(OperationalError("SELECT 1", {}, _Orig("08006")))
    assert is_transient(DBAPIError("UPDATE x", {}, _Orig("40P01")))  # deadlock: run the batch again
    assert is_transient(DBAPIError("UPDATE x", {}, _Orig("40001")))  # serialization failure
    assert not is_transient(DBAPIError("INSERT x", {}, _Orig("23505")))  # a unique violation stays the record's
    assert is_transient(ConnectionError("refused"))
    assert not is_transient(RuntimeError("bug"))
