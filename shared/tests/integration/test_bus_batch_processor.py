"""The batch processor against real Postgres: one transaction per batch, one savepoint per record."""
from collections import Counter
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import event, insert, text

from rapport_shared.bus import codec
from rapport_shared.bus.batch import BatchAbandoned, BatchProcessor
from rapport_shared.bus.codec import PoisonMessage
from rapport_shared.bus.inbox import Inbox
from rapport_shared.contracts import make_event
from rapport_shared.contracts.invoice import InvoiceIssuedV1

pytestmark = pytest.mark.integration


def issued(number: str):
    customer = uuid4()
    payload = InvoiceIssuedV1(
        invoice_id=uuid4(), customer_id=customer, number=number, issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1), currency="USD", amount_total=Decimal("10"), open_amount=Decimal("10"),
        status="open",
    )
    return make_event(payload, source="/test", tenant_id=uuid4(), customer_key=customer)


def records(*values: bytes) -> list[ConsumerRecord]:
    return [ConsumerRecord("t", 0, n, 0, 0, b"k", v, None, 1, len(v), []) for n, v in enumerate(values)]


class Effects:
    """A handler that writes one effect per event, tagged with the transaction it ran in."""

    def __init__(self, scratch, *, outage_on: str = "", outages: int = 1):
        self.scratch, self.calls, self.outage_on, self.outages = scratch, Counter(), outage_on, outages

    async def handle(self, session, envelope):
        number = envelope.data["number"]
        self.calls[number] += 1
        txid = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        await session.execute(insert(self.scratch.effects).values(event_id=envelope.id, note=f"{number}|{txid}"))
        if number.startswith("poison"):
            raise PoisonMessage("this invoice can never be booked")
        if number == self.outage_on and self.outages:
            self.outages -= 1
            raise ConnectionError("database went away")

    async def committed(self) -> list[tuple[str, str]]:
        async with self.scratch.engine.connect() as conn:
            rows = await conn.execute(text(f"SELECT note FROM {self.scratch.schema}.effects ORDER BY id"))
            return [tuple(note.split("|")) for (note,) in rows]


def processor(scratch, effects, **kwargs):
    return BatchProcessor(scratch.sessions, effects.handle, Inbox(scratch.schema, "batch-test"),
                          max_attempts=2, retry_backoff_s=0.01, **kwargs)


async def test_a_poison_record_rolls_back_only_its_savepoint_and_the_rest_commits_in_one_transaction(scratch):
    effects = Effects(scratch)
    good = [issued(f"good-{n}") for n in range(6)]
    poison = issued("poison-1")
    batch = records(*(codec.encode(e) for e in good[:3]), codec.encode(poison), b"{garbage",
                    *(codec.encode(e) for e in good[3:]), codec.encode(good[0]))

    items = await processor(scratch, effects).process(batch)

    assert [i.outcome for i in items] == ["handled"] * 3 + ["dead_lettered"] * 2 + ["handled"] * 3 + ["duplicate"]
    assert items[3].reason.startswith("rapport.invoice.issued.v1: this invoice can never be booked")
    assert items[4].reason.startswith("malformed envelope")
    committed = await effects.committed()
    assert [number for number, _ in committed] == [f"good-{n}" for n in range(6)]
    assert len({txid for _, txid in committed}) == 1, "the batch should be one transaction"
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 6  # the poison's claim rolled back too


async def test_a_transient_failure_rolls_back_and_reruns_the_whole_batch_with_one_effect_each(scratch):
    effects = Effects(scratch, outage_on="good-2")
    batch = records(*(codec.encode(issued(f"good-{n}")) for n in range(4)))

    items = await processor(scratch, effects).process(batch)

    assert [i.outcome for i in items] == ["handled"] * 4
    # Records before the outage ran twice (the first run rolled back), the ones after it once.
    assert effects.calls == {"good-0": 2, "good-1": 2, "good-2": 2, "good-3": 1}
    committed = await effects.committed()
    assert sorted(number for number, _ in committed) == [f"good-{n}" for n in range(4)]
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 4


async def test_an_outage_while_stopping_abandons_the_batch_and_commits_nothing(scratch):
    effects = Effects(scratch, outage_on="good-1", outages=10)
    batch = records(*(codec.encode(issued(f"good-{n}")) for n in range(3)))

    with pytest.raises(BatchAbandoned):
        await processor(scratch, effects, should_abandon=lambda: True).process(batch)

    assert await effects.committed() == []
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 0


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_attempts(scratch):
    async def broken(session, envelope):
        await session.execute(insert(scratch.effects).values(event_id=envelope.id, note="half"))
        if envelope.data["number"] == "bug":
            raise RuntimeError("the handler cannot cope")

    batch = records(codec.encode(issued("bug")), codec.encode(issued("fine")))
    items = await BatchProcessor(scratch.sessions, broken, Inbox(scratch.schema, "batch-test"),
                                 max_attempts=2, retry_backoff_s=0.01).process(batch)

    assert [i.outcome for i in items] == ["dead_lettered", "handled"]
    assert items[0].reason == "handler failed 2 times: RuntimeError: the handler cannot cope"
    assert await scratch.count("SELECT count(*) FROM {schema}.effects") == 1


async def test_a_clean_batch_claims_its_inbox_rows_at_once_and_a_repeated_event_counts_once(scratch):
    effects = Effects(scratch)
    first, second = issued("good-0"), issued("good-1")
    inbox = Inbox(scratch.schema, "batch-test")
    async with scratch.sessions() as session, session.begin():
        assert await inbox.claim(session, second)  # handled in an earlier life
    batch = records(codec.encode(first), codec.encode(second), codec.encode(first))

    items = await BatchProcessor(scratch.sessions, effects.handle, inbox).process(batch)

    assert [i.outcome for i in items] == ["handled", "duplicate", "duplicate"]
    assert effects.calls == {"good-0": 1}
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 2


async def test_orm_objects_a_handler_leaves_unflushed_are_committed_with_the_batch(scratch):
    from sqlalchemy.orm import registry

    class Effect:
        def __init__(self, event_id, note):
            self.event_id, self.note = event_id, note

    registry().map_imperatively(Effect, scratch.effects)

    async def adds(session, envelope):
        session.add(Effect(envelope.id, envelope.data["number"]))  # no flush: the commit would do it

    batch = records(*(codec.encode(issued(f"orm-{n}")) for n in range(3)))
    for optimistic in (True, False):
        await BatchProcessor(scratch.sessions, adds, Inbox(scratch.schema, f"orm-{optimistic}"),
                             optimistic=optimistic).process(batch)
    assert await scratch.count("SELECT count(*) FROM {schema}.effects") == 6


async def test_a_held_connection_serves_transaction_after_transaction_and_a_killed_one_is_replaced(scratch):
    pids: list[int] = []

    async def handler(session, envelope):
        pids.append((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await session.execute(insert(scratch.effects).values(event_id=envelope.id, note=envelope.data["number"]))

    held = BatchProcessor(scratch.sessions, handler, Inbox(scratch.schema, "held-test"), max_attempts=2,
                          retry_backoff_s=0.01, hold_connection=True)
    checkouts = []
    listener = lambda *_: checkouts.append(1)  # noqa: E731
    event.listen(scratch.engine.sync_engine.pool, "checkout", listener)
    try:
        for n in range(3):  # the per-record mode: one record, one transaction
            assert [i.outcome for i in await held.process(records(codec.encode(issued(f"one-{n}"))))] == ["handled"]
    finally:
        event.remove(scratch.engine.sync_engine.pool, "checkout", listener)
    assert len(checkouts) == 1 and len(set(pids)) == 1  # one checkout (and pre-ping) for three transactions

    async with scratch.engine.connect() as admin:
        assert (await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})).scalar_one()
    items = await held.process(records(codec.encode(issued("after-kill"))))

    assert [i.outcome for i in items] == ["handled"]
    assert pids[-1] != pids[0]  # the dead connection was dropped, the retry ran on a fresh one
    assert await scratch.count("SELECT count(*) FROM {schema}.effects") == 4
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 4
    await held.close()
    assert held._held is None


class ManyEffects(Effects):
    """The same effects, with a ``handle_many`` that writes a batch's rows in one statement."""

    def __init__(self, scratch):
        super().__init__(scratch)
        self.many_calls: list[list[str]] = []

    async def __call__(self, session, envelope):
        await self.handle(session, envelope)

    async def handle_many(self, session, envelopes):
        numbers = [e.data["number"] for e in envelopes]
        self.many_calls.append(numbers)
        txid = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        await session.execute(insert(self.scratch.effects),
                              [{"event_id": e.id, "note": f"{n}|{txid}"} for e, n in zip(envelopes, numbers)])
        if any(n.startswith("poison") for n in numbers):
            raise PoisonMessage("this invoice can never be booked")


async def test_a_batch_handler_gets_the_new_events_at_once_and_a_failing_batch_falls_back_record_by_record(scratch):
    handler = ManyEffects(scratch)
    inbox = Inbox(scratch.schema, "many-test")
    old = issued("good-old")
    async with scratch.sessions() as session, session.begin():
        assert await inbox.claim(session, old)
    clean = [issued(f"good-{n}") for n in range(3)]

    items = await BatchProcessor(scratch.sessions, handler, inbox).process(
        records(*(codec.encode(e) for e in [clean[0], old, clean[1], clean[0], clean[2]])))

    assert [i.outcome for i in items] == ["handled", "duplicate", "handled", "duplicate", "handled"]
    assert handler.many_calls == [["good-0", "good-1", "good-2"]] and not handler.calls
    assert len({txid for _, txid in await handler.committed()}) == 1

    mixed = [issued("good-3"), issued("poison-4"), issued("good-5")]
    items = await BatchProcessor(scratch.sessions, handler, inbox).process(records(*(codec.encode(e) for e in mixed)))

    assert [i.outcome for i in items] == ["handled", "dead_lettered", "handled"]
    assert handler.many_calls[-1] == ["good-3", "poison-4", "good-5"]  # rolled back whole
    assert handler.calls == {"good-3": 1, "poison-4": 1, "good-5": 1}  # then one by one, in savepoints
    committed = sorted(n for n, _ in await handler.committed())
    assert committed == ["good-0", "good-1", "good-2", "good-3", "good-5"]
    assert await scratch.count("SELECT count(*) FROM {schema}.inbox") == 6
