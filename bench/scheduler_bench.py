"""Scheduler benchmark: re-plan after a policy change, claim-decide-emit rate, event-to-decision latency.

Each figure is printed beside the raw ``FOR UPDATE SKIP LOCKED`` claim rate of a bare job table
measured in the same run (the ceiling any Postgres timer design has on this machine), with the ratio.
Runs on its own slice of the running infrastructure and removes it afterwards.
``RAPPORT_BENCH_SCALE`` scales the sizes (1.0: 1,000,000 invoices re-planned; 0.05 for a quick run).

    .venv/bin/python bench/scheduler_bench.py
"""
from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

from sqlalchemy import event, text

from rapport_shared.bus.producer import EventProducer, make_kafka_producer
from rapport_shared.contracts import make_event
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.invoice import InvoiceIssuedV1
from rapport_shared.db import make_engine, make_session_factory
from rapport_shared.migrations import upgrade_head
from rapport_shared.testing.infra import create_slice, destroy_slice

from rapport_scheduler.bootstrap import tune_gc, warm_calendar
from rapport_scheduler.domain.policy import PolicySpec, Segment, Step
from rapport_scheduler.service_layer import policy_service
from rapport_scheduler.service_layer.planning import Planner
from rapport_scheduler.service_layer.ticker import Ticker

REPO = Path(__file__).resolve().parents[1]
SCALE = float(os.environ.get("RAPPORT_BENCH_SCALE", "1.0"))
REPLAN_INVOICES = max(10_000, int(1_000_000 * SCALE))
EMIT_CUSTOMERS = max(1_000, int(20_000 * SCALE))
LATENCY_SECONDS = max(5.0, 20.0 * SCALE)
RATE = 1_000
BATCH = 500
PARTS = os.environ.get("RAPPORT_BENCH_PARTS", "emit,replan,latency").split(",")  # to run one part alone
REPLICAS = int(os.environ.get("RAPPORT_BENCH_TICKERS", "2"))
# Batches in flight per ticker process (the service's RAPPORT_SCHEDULER_TICK_CONCURRENCY, default 2).
CONCURRENCY = int(os.environ.get("RAPPORT_SCHEDULER_TICK_CONCURRENCY", "2"))
CLAIM_ROWS = max(20_000, int(200_000 * SCALE))
CONSUMER_EVENTS = max(2_000, int(20_000 * SCALE))


async def seed(engine, tenant, customers: int, invoices_each: int, due: date) -> None:
    """Customers, contacts, open invoices and idle timers, written set-based (no ORM objects)."""
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO scheduler.customers (tenant_id, customer_id, name, country, time_zone, version) "
            "SELECT :t, gen_random_uuid(), 'Bench ' || g, 'US', 'UTC', 1 FROM generate_series(1, :n) g"),
            {"t": tenant, "n": customers})
        await conn.execute(text(
            "INSERT INTO scheduler.contacts (tenant_id, contact_id, customer_id, name, email, is_primary, version) "
            "SELECT tenant_id, gen_random_uuid(), customer_id, 'AP', 'ap@example.com', true, 1 "
            "FROM scheduler.customers WHERE tenant_id = :t"), {"t": tenant})
        await conn.execute(text(
            "INSERT INTO scheduler.invoices (tenant_id, invoice_id, customer_id, number, issue_date, due_date, currency,"
            " amount_total, open_amount, status) SELECT c.tenant_id, gen_random_uuid(), c.customer_id, 'B-' || g,"
            " CAST(:due AS date) - 30, CAST(:due AS date) - (g % 3), 'USD', 100 + g, 100 + g, 'open'"
            " FROM scheduler.customers c CROSS JOIN generate_series(1, :k) g WHERE c.tenant_id = :t"),
            {"t": tenant, "k": invoices_each, "due": due})
        await conn.execute(text(
            "INSERT INTO scheduler.timers (tenant_id, customer_id, due_at) "
            "SELECT tenant_id, customer_id, NULL FROM scheduler.customers WHERE tenant_id = :t"), {"t": tenant})
    # Committed: statistics written by ANALYZE inside a transaction that is rolled back are lost, and
    # the planner then plans the 1M-row re-plan from a mid-seed autoanalyze (a quadratic nested loop).
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE scheduler.invoices"))
        await conn.execute(text("ANALYZE scheduler.customers"))


async def raw_claim_rate(engine) -> float:
    """The reference: claim-and-reschedule of a bare job table, 500 rows a transaction."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE scheduler.bench_jobs (id bigserial PRIMARY KEY, due_at timestamptz)"))
        await conn.execute(text("CREATE INDEX ON scheduler.bench_jobs (due_at)"))
        await conn.execute(text("INSERT INTO scheduler.bench_jobs (due_at) SELECT now() - interval '1 hour' "
                                "FROM generate_series(1, :n)"), {"n": CLAIM_ROWS})
    claimed, started = 0, time.perf_counter()
    while True:
        async with engine.begin() as conn:
            n = (await conn.execute(text(
                "WITH c AS (SELECT id FROM scheduler.bench_jobs WHERE due_at <= now() ORDER BY due_at LIMIT 500 "
                "FOR UPDATE SKIP LOCKED) UPDATE scheduler.bench_jobs j SET due_at = now() + interval '1 day' "
                "FROM c WHERE j.id = c.id"))).rowcount
        if not n:
            break
        claimed += n
    return claimed / (time.perf_counter() - started)


async def due_tenant(engine, customers: int) -> None:
    """A tenant whose every customer has two overdue invoices and a timer due now."""
    tenant = uuid4()
    await seed(engine, tenant, customers, 2, date.today() - timedelta(days=8))
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE scheduler.timers SET due_at = now() - interval '1 minute' WHERE tenant_id = :t"),
                           {"t": tenant})
    return tenant


BACKENDS = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'")
TICKS = os.sysconf("SC_CLK_TCK")


async def backend_cpu(engine) -> dict[int, float] | None:
    """CPU seconds (user + system) each client backend of this database has used so far, read from
    ``/proc/<pid>/stat``; None when the server is not on this machine (or not readable)."""
    async with engine.connect() as conn:
        pids = [r[0] for r in await conn.execute(BACKENDS)]
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return out or None


async def hot_updates(engine) -> str:
    """Share of the updates of the tables the ticker rewrites that stayed on their page (heap-only tuples)."""
    await asyncio.sleep(1.1)  # backends flush their table counters at most once a second
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = 'scheduler' "
            "AND relname IN ('invoices', 'customers', 'timers') ORDER BY relname"))).all()
    return ", ".join(f"{r[0]} {r[2] / r[1]:.0%} of {r[1]:,}" if r[1] else f"{r[0]} -" for r in rows)


async def emit_rate(engine, topics: TopicNames) -> dict:
    """One in-process ticker (one core, ``CONCURRENCY`` batches in flight): rate, CPU per touchpoint, statements
    per claimed batch."""
    warm_calendar()
    tune_gc()
    await due_tenant(engine, EMIT_CUSTOMERS)
    statements = [0]
    count = lambda *_: statements.__setitem__(0, statements[0] + 1)  # noqa: E731
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    ticker = Ticker(make_session_factory(engine), Planner(topics), batch_size=BATCH, concurrency=CONCURRENCY)
    before = await backend_cpu(engine)
    cpu, started = time.process_time(), time.perf_counter()
    await ticker.drain()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = await backend_cpu(engine)
    # Backends opened during the drain count from zero; the statement reading the list costs a few ticks.
    pg = sum(v - (before or {}).get(pid, 0.0) for pid, v in after.items()) if after else None
    hot = await hot_updates(engine)
    async with engine.connect() as conn:  # no relay runs here: every row the drain wrote is still there
        outbox = (await conn.execute(text("SELECT count(*) FROM scheduler.outbox"))).scalar_one()
    event.remove(engine.sync_engine, "before_cursor_execute", count)
    batches = -(-EMIT_CUSTOMERS // BATCH) + CONCURRENCY  # the last, empty claim of each batch in flight included
    return {"rate": EMIT_CUSTOMERS / elapsed, "touchpoints": ticker.touchpoints,
            "cpu_us": cpu / max(ticker.touchpoints, 1) * 1e6, "statements": statements[0] / batches,
            "pg_us": None if pg is None else pg / max(ticker.touchpoints, 1) * 1e6, "hot": hot,
            "outbox": outbox / max(ticker.touchpoints, 1)}


async def replica_rate(engine, infra) -> float:
    """``REPLICAS`` real ``rapport-scheduler ticker`` processes sharing the due timers via SKIP LOCKED."""
    env = infra.env() | {"RAPPORT_SCHEDULER_TICK_S": "0.05", "RAPPORT_SCHEDULER_TICK_BATCH_SIZE": str(BATCH)}
    logs = [open(f"/tmp/scheduler-bench-ticker-{n}.log", "wb") for n in range(REPLICAS)]
    procs = [subprocess.Popen([str(REPO / ".venv/bin/rapport-scheduler"), "ticker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT) for log in logs]
    try:
        await _wait_logged([Path(log.name) for log in logs], "ticker started")
        tenant = await due_tenant(engine, EMIT_CUSTOMERS)
        started = time.perf_counter()
        # Polled with an index probe of the due timers, not a count of the touchpoints written so far (which
        # read every new row 20 times a second and took CPU from the tickers it measured). A claimed timer's
        # new wake-up commits with its batch, so "none due" means every batch has committed.
        async with engine.connect() as conn:
            while (await conn.execute(DUE_LEFT, {"t": tenant})).scalar_one():
                await conn.commit()
                await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        written = await _touchpoints(engine, tenant)
        assert written == EMIT_CUSTOMERS, f"{written} touchpoints for {EMIT_CUSTOMERS} due customers"
        return EMIT_CUSTOMERS / elapsed
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


DUE_LEFT = text("SELECT EXISTS (SELECT 1 FROM scheduler.timers WHERE tenant_id = :t AND due_at <= now())")


async def _touchpoints(engine, tenant) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM scheduler.touchpoints WHERE tenant_id = :t"),
                                   {"t": tenant})).scalar_one()


async def replan_seconds(engine) -> tuple[float, int]:
    tenant = uuid4()
    await seed(engine, tenant, REPLAN_INVOICES // 10, 10, date.today() + timedelta(days=20))
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():  # every customer starts under the default policy
        await policy_service.replan_tenant(session, tenant, datetime.now(timezone.utc))
    spec = PolicySpec(name="Everyone, earlier", priority=10, segment=Segment(countries=["US"]), steps=[
        Step(offset_days=-10, channel="email", template_key="pre_due_friendly"),
        Step(offset_days=0, channel="email", template_key="due_today"),
        Step(offset_days=14, channel="email", template_key="overdue_firm", tone="firm")])
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        policy = await policy_service.create(session, tenant, spec, datetime.now(timezone.utc), "bench")
    elapsed = time.perf_counter() - started
    async with engine.connect() as conn:
        moved = (await conn.execute(text("SELECT count(*) FROM scheduler.customers WHERE tenant_id = :t "
                                         "AND policy_id = :p"), {"t": tenant, "p": policy.policy_id})).scalar_one()
    return elapsed, moved


async def latency(engine, infra) -> tuple[list[float], int]:
    """Invoice events on Kafka at RATE/s through two real consumer processes and a ticker (woken by the
    consumers' NOTIFY, polling as fallback); decision time minus event time."""
    tenant, count = uuid4(), int(RATE * LATENCY_SECONDS)
    await seed(engine, tenant, count, 0, date.today())
    async with engine.connect() as conn:
        customers = [r[0] for r in await conn.execute(text("SELECT customer_id FROM scheduler.customers WHERE tenant_id = :t"), {"t": tenant})]
    roles = [("consumer", "consumer started"), ("consumer", "consumer started"), ("ticker", "ticker started")]
    logs = [open(f"/tmp/scheduler-bench-{role}-{n}.log", "wb") for n, (role, _) in enumerate(roles)]
    procs = [subprocess.Popen([str(REPO / ".venv/bin/rapport-scheduler"), role], env=infra.env(), stdout=log,
                              stderr=subprocess.STDOUT) for (role, _), log in zip(roles, logs)]
    try:
        for (_, started), log in zip(roles, logs):
            await _wait_logged([Path(log.name)], started)
        await asyncio.sleep(5)  # let the group settle on both members
        sent_at = await _produce(infra, tenant, customers)
        decided = await _wait_decisions(engine, tenant, count)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    return [(decided[c] - sent_at[c]).total_seconds() for c in decided if c in sent_at], count


def _invoice_event(tenant, customer, n: int):
    payload = InvoiceIssuedV1(
        invoice_id=uuid4(), customer_id=customer, number=f"L-{n}", issue_date=date.today() - timedelta(days=38),
        due_date=date.today() - timedelta(days=8), currency="USD", amount_total=Decimal("250.00"),
        open_amount=Decimal("250.00"), status="open")
    return make_event(payload, source="/bench", tenant_id=tenant, customer_key=customer)


async def consumer_cpu_us(engine, infra) -> float:
    """CPU per invoice event in the consumer's own shape (decode, inbox claim, handler, one transaction per 500)."""
    from rapport_shared.bus import codec
    from rapport_shared.bus.inbox import Inbox

    from rapport_scheduler.bootstrap import make_bus
    from rapport_scheduler.config import Settings

    tenant, count = uuid4(), CONSUMER_EVENTS
    await seed(engine, tenant, count, 0, date.today())
    async with engine.connect() as conn:
        customers = [r[0] for r in await conn.execute(text("SELECT customer_id FROM scheduler.customers WHERE tenant_id = :t"), {"t": tenant})]
    raw = [codec.encode(_invoice_event(tenant, c, n)) for n, c in enumerate(customers)]
    bus = make_bus(Settings(**infra.settings_overrides("scheduler")))
    sessions, inbox = make_session_factory(engine), Inbox("scheduler", "scheduler")
    cpu = time.process_time()
    for start in range(0, count, BATCH):
        envelopes = [codec.decode(r) for r in raw[start:start + BATCH]]
        async with sessions() as session, session.begin():
            claimed = await inbox.claim_many(session, envelopes)
            for envelope in envelopes:
                if envelope.id in claimed:
                    await bus.handle(session, envelope)
    return (time.process_time() - cpu) / count * 1e6


async def _produce(infra, tenant, customers) -> dict:
    producer = EventProducer(make_kafka_producer(infra.bootstrap), "bench")
    await producer.start()
    sent_at, started = {}, time.perf_counter()
    try:
        for n, customer in enumerate(customers):
            envelope = _invoice_event(tenant, customer, n)
            sent_at[customer] = envelope.time
            await producer.publish(infra.topic("invoice"), envelope)
            pause = (n + 1) / RATE - (time.perf_counter() - started)
            if pause > 0:
                await asyncio.sleep(pause)
    finally:
        await producer.stop()
    return sent_at


async def _wait_logged(paths, line: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not all(line in p.read_text(errors="replace") for p in paths):
        if time.monotonic() > deadline:
            raise RuntimeError(f"consumers did not start within {timeout}s")
        await asyncio.sleep(0.5)


async def _wait_decisions(engine, tenant, count: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    query = text("SELECT customer_id, decided_at FROM scheduler.touchpoints WHERE tenant_id = :t")
    while True:
        async with engine.connect() as conn:
            rows = (await conn.execute(query, {"t": tenant})).all()
        if len(rows) >= count or time.monotonic() > deadline:
            return {r[0]: r[1] for r in rows}
        await asyncio.sleep(1)


async def statement_cpu_us(engine) -> float:
    """CPU cost of one trivial statement in this process right now: the unit the other CPU figures are read in
    (on a shared, loaded machine every CPU figure inflates together)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        cpu = time.process_time()
        for n in range(300):
            await conn.execute(text("SELECT CAST(:n AS int)"), {"n": n})
        return (time.process_time() - cpu) / 300 * 1e6


def line(label: str, value: str, reference: float, ratio: float) -> None:
    print(f"  {label:<58} {value:>16}   raw SKIP LOCKED claims {reference:>10,.0f}/s   ratio {ratio:.3f}")


async def run(infra) -> None:
    url = infra.database_url("scheduler")
    upgrade_head(REPO / "services/scheduler/migrations", url, "scheduler")
    engine = make_engine(url, pool_size=4)
    print(f"scheduler bench (scale {SCALE}) on {infra.database}")
    raw = await raw_claim_rate(engine)
    print(f"  reference: raw SKIP LOCKED claim rate of a bare job table   {raw:>12,.0f} rows/s")
    if "emit" in PARTS:
        await print_emit(engine, infra, raw)
    if "replan" in PARTS:
        await print_replan(engine, raw)
    if "latency" in PARTS:
        await print_latency(engine, infra, raw)
    await engine.dispose()


async def print_emit(engine, infra, raw: float) -> None:
    emit = await emit_rate(engine, TopicNames(infra.topic_prefix))
    line(f"claim + decide + emit, 1 ticker x{CONCURRENCY} batches ({emit['touchpoints']:,} tp)", f"{emit['rate']:,.0f}/s", raw,
         emit["rate"] / raw)
    unit = await statement_cpu_us(engine)
    print(f"    {emit['cpu_us']:,.0f} CPU us per touchpoint (ticker process; a trivial SELECT costs {unit:,.0f} us here "
          f"now, ratio {emit['cpu_us'] / unit:.1f}), {emit['statements']:.1f} statements per batch of {BATCH}")
    if emit["pg_us"] is not None:
        print(f"    {emit['pg_us']:,.0f} CPU us per touchpoint in the Postgres backends serving it (/proc/<pid>/stat, "
              f"clock ticks of {1e6 / TICKS:,.0f} us; WAL writer, checkpointer and autovacuum not included)")
    print(f"    heap-only (HOT) updates, whole slice so far: {emit['hot']}")
    print(f"    {emit['outbox']:.2f} outbox rows per touchpoint (a batch's events packed a lane at a time; each row is one relay delete)")
    if not REPLICAS:
        return
    replicas = await replica_rate(engine, infra)
    line(f"claim + decide + emit, {REPLICAS} ticker processes", f"{replicas:,.0f}/s", raw, replicas / raw)
    print(f"    target >= 10,000/s: {'met' if max(replicas, emit['rate']) >= 10_000 else 'NOT met'}")


async def print_replan(engine, raw: float) -> None:
    seconds, moved = await replan_seconds(engine)
    per_second = REPLAN_INVOICES / seconds
    line(f"re-plan {REPLAN_INVOICES:,} open invoices after a policy change", f"{seconds:,.1f} s", raw, per_second / raw)
    print(f"    ({per_second:,.0f} invoices/s; {moved:,} customers moved to the new policy; target < 60 s at 1,000,000: "
          f"{'met' if 1_000_000 / per_second < 60 else 'NOT met'}"
          f"{'' if REPLAN_INVOICES >= 1_000_000 else ' by extrapolation'})")


async def print_latency(engine, infra, raw: float) -> None:
    per_event = await consumer_cpu_us(engine, infra)
    unit = await statement_cpu_us(engine)
    print(f"    consumer: {per_event:,.0f} CPU us per invoice event ({CONSUMER_EVENTS:,} events, batches of {BATCH}; "
          f"a trivial SELECT costs {unit:,.0f} us here now, ratio {per_event / unit:.1f}); "
          f"{RATE * per_event / 1e6:.2f} of a core at {RATE:,} events/s")
    latencies, sent = await latency(engine, infra)
    if latencies:
        p50, p99 = statistics.median(latencies), statistics.quantiles(latencies, n=100)[98]
        line(f"invoice event -> decision p99 at {RATE:,}/s ({len(latencies):,}/{sent:,} decided)",
             f"{p99 * 1000:,.0f} ms", raw, (len(latencies) / LATENCY_SECONDS) / raw)
        print(f"    p50 {p50 * 1000:,.0f} ms, max {max(latencies) * 1000:,.0f} ms; target p99 < 500 ms: "
              f"{'met' if p99 < 0.5 else 'NOT met'} (ratio: decided events/s over raw claims/s)")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    infra = create_slice(REPO)  # outside the event loop: provisioning runs its own
    try:
        asyncio.run(run(infra))
    finally:
        destroy_slice(infra)


if __name__ == "__main__":
    main()
