"""Ingest benchmark: bulk import of NDJSON invoices to ledger + Kafka, beside raw COPY; POST p99 at 200 req/s.

    .venv/bin/python bench/ingest_bench.py          # RAPPORT_BENCH_SCALE=1.0: 1,000,000 invoices
    RAPPORT_BENCH_SCALE=0.05 .venv/bin/python bench/ingest_bench.py

Runs against the shared Kafka/Postgres in its own slice (database + topic prefix), with the real
``rapport-ingest relay`` and ``rapport-ingest api`` processes, and removes everything afterwards.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import asyncpg
import orjson

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCALE = float(os.environ.get("RAPPORT_BENCH_SCALE", "1.0"))
INVOICES = max(2000, int(1_000_000 * SCALE))
CUSTOMERS = 1000
CHUNK = 10_000
TARGET_RATE = 25_000
POST_RATE = 200
POST_SECONDS = max(5.0, 30.0 * SCALE)
# RAPPORT_BENCH_POST_ONLY=1: only the POST/healthz phase, on a fresh slice (no bulk phase before it), to tell the
# product's latency from the vacuum debt the bulk phase leaves behind.
POST_ONLY = os.environ.get("RAPPORT_BENCH_POST_ONLY", "") not in ("", "0")


def write_ndjson(path: Path, count: int = INVOICES) -> None:
    rng = random.Random(7)
    start = date(2025, 1, 1)
    with path.open("w") as out:
        for i in range(count):
            issued = start + timedelta(days=rng.randrange(365))
            out.write(json.dumps({
                "number": f"B-{i:08d}", "customer_external_id": f"CUST-{rng.randrange(CUSTOMERS):04d}",
                "issue_date": issued.isoformat(), "due_date": (issued + timedelta(days=30)).isoformat(),
                "currency": "USD", "amount": f"{rng.randrange(1000, 5_000_000) / 100:.2f}", "terms": "Net 30",
            }) + "\n")


def pg_url(infra) -> str:
    return infra.database_url("ingest").replace("+asyncpg", "")


async def seed_tenant(infra) -> tuple[UUID, str]:
    from rapport_shared.db import make_engine, make_session_factory

    from rapport_ingest.service_layer.tenancy import create_tenant

    engine = make_engine(infra.database_url("ingest"), pool_size=1)
    async with make_session_factory(engine)() as session, session.begin():
        tenant_id, key = await create_tenant(session, "Bench Co")
    await engine.dispose()
    conn = await asyncpg.connect(pg_url(infra))
    from rapport_shared.ids import new_id
    rows = [(new_id(), tenant_id, f"CUST-{i:04d}", f"Customer {i}", "USD", "{}") for i in range(CUSTOMERS)]
    await conn.copy_records_to_table("customers", schema_name="ingest", records=rows,
                                     columns=("id", "tenant_id", "external_id", "name", "currency", "attributes"))
    await conn.close()
    return tenant_id, key


async def raw_copy_rate(infra, path: Path) -> float:
    """The reference: the same rows parsed from NDJSON and COPYed into a bare table of the same columns."""
    conn = await asyncpg.connect(pg_url(infra))
    await conn.execute("CREATE TABLE ingest.bench_copy (number text, customer text, issue_date date, due_date date,"
                       " currency text, amount numeric, terms text)")
    started = time.perf_counter()
    batch: list[tuple] = []
    with path.open("rb") as lines:
        for line in lines:
            r = orjson.loads(line)
            batch.append((r["number"], r["customer_external_id"], date.fromisoformat(r["issue_date"]),
                          date.fromisoformat(r["due_date"]), r["currency"], Decimal(r["amount"]), r["terms"]))
            if len(batch) == CHUNK:
                await conn.copy_records_to_table("bench_copy", schema_name="ingest", records=batch)
                batch = []
    if batch:
        await conn.copy_records_to_table("bench_copy", schema_name="ingest", records=batch)
    elapsed = time.perf_counter() - started
    print(f"  (raw COPY took {elapsed:.1f}s)", flush=True)
    await conn.execute("DROP TABLE ingest.bench_copy")
    await conn.close()
    return INVOICES / elapsed


async def topic_count(infra, topic: str) -> int:
    """Records on the topic (a fresh one per run), from its partitions' offsets."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from rapport_shared.contracts.catalogue import TOPICS

    partitions = next(t.partitions for t in TOPICS if t.name == "invoice")
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        ends, begins = await consumer.end_offsets(parts), await consumer.beginning_offsets(parts)
        return sum(ends[p] - begins[p] for p in parts)
    finally:
        await consumer.stop()


async def import_rate(infra, settings, tenant_id: UUID, path: Path) -> tuple[float, float, int]:
    """Import through the service's chunk importer while the real relay publishes; until Kafka has them all."""
    from rapport_shared.db import make_engine
    from rapport_shared.contracts.catalogue import TopicNames
    from rapport_shared.time import SystemClock

    from rapport_ingest.bootstrap import make_outbox
    from rapport_ingest.domain.presets import preset_for
    from rapport_ingest.domain.rows import parse_lines
    from rapport_ingest.service_layer.imports import ChunkImporter

    engine = make_engine(settings.database_url, pool_size=2)
    importer = ChunkImporter(engine, make_outbox(settings), TopicNames(settings.topic_prefix), SystemClock(), CHUNK,
                             settings.import_prebuild)
    print(f"  (next chunk prebuilt in a thread: {settings.import_prebuild}; RAPPORT_INGEST_IMPORT_PREBUILD)", flush=True)
    relay = subprocess.Popen([str(BIN / "rapport-ingest"), "relay"], env=infra.env(
        RAPPORT_RELAY_BATCH_SIZE="5000", RAPPORT_LOG_LEVEL="WARNING"), stdout=subprocess.DEVNULL)
    job_id = await _job(engine, tenant_id)
    conn = await asyncpg.connect(pg_url(infra))
    try:
        await _settled(relay.pid)  # its start-up (imports, connections) is not per-invoice work
        cpu = _CpuMeter(conn, relay.pid)
        await cpu.start()
        started = time.perf_counter()
        with path.open("rb") as lines:
            await importer.run(job_id, tenant_id, "invoices", preset_for("native", "invoices"), parse_lines(lines, "ndjson"))
        committed = time.perf_counter() - started
        print(f"  (committed in {committed:.1f}s; waiting for the relay)", flush=True)
        bound = await cpu.report("to committed")
        print(f"  committed wall rate {INVOICES / committed:,.0f} inv/s = {INVOICES / committed / bound:.2f} of what"
              f" importer + Postgres CPU allow on 2 cores (1.00 = fully overlapped)", flush=True)
        while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ingest.outbox)"):
            await asyncio.sleep(0.2)
        published = time.perf_counter() - started
        await cpu.report("to published")
    finally:
        await conn.close()
        relay.terminate()
        relay.wait(30)
        await engine.dispose()
    on_topic = await topic_count(infra, infra.topic("invoice"))
    return INVOICES / committed, INVOICES / published, on_topic


def _proc_cpu(pid: int) -> float:
    """utime + stime of a local process, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _local_brokers() -> list[int]:
    """Pids of Kafka brokers running on this machine (the project's own, started by scripts/infra.sh)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"kafka.Kafka" in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


async def _settled(pid: int, timeout: float = 60.0) -> None:
    """Wait until a freshly started process has finished starting: its CPU time stops growing."""
    deadline, last = time.monotonic() + timeout, _proc_cpu(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = _proc_cpu(pid)
        if now - last < 0.02 and now > 0:
            return
        last = now


class _CpuMeter:
    """CPU spent per invoice by this process (the importer), the slice's Postgres backends and the relay:
    figures the machine's other load does not distort, unlike the wall-clock rates."""

    def __init__(self, conn, relay_pid: int) -> None:
        self._conn, self._relay = conn, relay_pid
        self._brokers = _local_brokers()

    async def _backends(self) -> dict[int, float]:
        pids = await self._conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {r["pid"]: _proc_cpu(r["pid"]) for r in pids}

    async def start(self) -> None:
        self._own, self._relay0, self._pg0 = time.process_time(), _proc_cpu(self._relay), await self._backends()
        self._broker0 = sum(map(_proc_cpu, self._brokers))

    async def report(self, phase: str) -> None:
        pg = sum(cpu - self._pg0.get(pid, 0.0) for pid, cpu in (await self._backends()).items())
        own, relay = time.process_time() - self._own, _proc_cpu(self._relay) - self._relay0
        broker = sum(map(_proc_cpu, self._brokers)) - self._broker0
        total = own + pg + relay + broker
        counted = "" if self._brokers else " (broker not local: not counted)"
        print(f"  CPU per invoice {phase}: importer {1e6 * own / INVOICES:.1f} us, Postgres {1e6 * pg / INVOICES:.1f} us,"
              f" relay {1e6 * relay / INVOICES:.1f} us, Kafka broker {1e6 * broker / INVOICES:.1f} us"
              f" = {1e6 * total / INVOICES:.1f} us{counted}"
              f" -> at most {2 * INVOICES / total:,.0f} inv/s on 2 idle cores"
              f" (importer + Postgres alone: {2 * INVOICES / (own + pg):,.0f} inv/s)", flush=True)
        return 2 * INVOICES / (own + pg)


async def _job(engine, tenant_id: UUID) -> UUID:
    from sqlalchemy import insert

    from rapport_shared.ids import new_id
    from rapport_ingest.adapters.orm import import_jobs

    job_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(insert(import_jobs).values(id=job_id, tenant_id=tenant_id, kind="invoices", format="ndjson",
                                                      preset="native", status="running", rows_total=INVOICES))
    return job_id


# The load generator: open loop (each request leaves at its scheduled instant and its latency counts from that
# instant, so a late sender cannot hide queueing) over plain HTTP/1.1 keep-alive connections on asyncio streams.
# httpx cost this process 3-5 ms of CPU per request, a whole core at 200 POST/s on a 2-core machine: the client's
# own queue then showed up as the API's latency.
LOAD_SCRIPT = r"""
import asyncio, json, sys, time
host, port, key, rate, seconds, path, prefix = (sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]),
                                                float(sys.argv[5]), sys.argv[6], sys.argv[7])
idle = []
def request(i):
    if not path.startswith("/v1"):
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    body = json.dumps({"number": f"{prefix}-{i:07d}", "customer_external_id": "CUST-0001", "issue_date": "2026-01-01",
                       "due_date": "2026-01-31", "currency": "USD", "amount": "123.45"}).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
async def exchange(i, reused):
    reader, writer = reused or await asyncio.open_connection(host, port)
    writer.write(request(i))
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (OSError, asyncio.IncompleteReadError):
        writer.close()
        if reused:  # the server closed an idle keep-alive connection: send again on a new one, as HTTP clients do
            return await exchange(i, None)
        raise
    status, length = int(head[9:12]), 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    idle.append((reader, writer))
    return status
async def one(i, due, out):
    try:
        status = await exchange(i, idle.pop() if idle else None)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        status = type(exc).__name__
    out.append((time.perf_counter() - due, status, i))
async def main():
    out, tasks = [], []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i, due, out)))
    await asyncio.gather(*tasks)
    print(json.dumps({"latencies": [l for l, _, _ in out], "statuses": [s for _, s, _ in out],
                      "warm": [l for l, _, i in out if i >= rate],
                      "elapsed": time.perf_counter() - start, "cpu": time.process_time()}))
asyncio.run(main())
"""


class _AutovacuumSampler:
    """Samples, twice a second in a thread of its own, what autovacuum works on in the slice's database."""

    def __init__(self, infra) -> None:
        import threading
        self._url, self._stop, self.seen, self.post_states = pg_url(infra), threading.Event(), {}, {}
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        conn = await asyncpg.connect(self._url)
        try:
            while not self._stop.is_set():
                for r in await conn.fetch("SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                                          " AND datname = current_database()"):
                    self.seen[r["query"]] = self.seen.get(r["query"], 0) + 1
                # What the POST path's pooled connections are doing: idle (the work is in Python) or waiting in Postgres.
                for r in await conn.fetch("SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
                                          " WHERE application_name = 'rapport-ingest-post'"
                                          " AND datname = current_database()"):
                    what = r["state"] if r["state"] != "active" else f"active/{r['wait_event'] or 'cpu'}"
                    self.post_states[what] = self.post_states.get(what, 0) + 1
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def pool(self) -> str:
        samples = sum(self.post_states.values()) or 1
        return ", ".join(f"{k} {v / samples:.0%}" for k, v in sorted(self.post_states.items(), key=lambda kv: -kv[1]))

    def describe(self) -> str:
        if not self.seen:
            return "none seen"
        return "; ".join(f"{q.removeprefix('autovacuum: ')} ({n / 2:.1f}s)" for q, n in sorted(self.seen.items()))


def post_latency(infra, key: str, prefix: str = "P") -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = subprocess.Popen([str(BIN / "rapport-ingest"), "api"], env=infra.env(
        RAPPORT_INGEST_HTTP_PORT=str(port), RAPPORT_LOG_LEVEL="WARNING"), stdout=subprocess.DEVNULL)
    try:
        import httpx
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        result = {"/healthz": _load(port, key, "/healthz", api.pid, prefix)}
        with _AutovacuumSampler(infra) as autovacuum:
            result["/v1/invoices"] = _load(port, key, "/v1/invoices", api.pid, prefix)
        result["autovacuum"], result["pool"] = autovacuum.describe(), autovacuum.pool()
        return result
    finally:
        api.terminate()
        api.wait(30)


def _load(port: int, key: str, path: str, api_pid: int, prefix: str) -> dict:
    """Open loop from a second process: requests leave on a fixed schedule whatever the answers do."""
    api_cpu = _proc_cpu(api_pid)
    out = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, "127.0.0.1", str(port), key, str(POST_RATE),
                          str(POST_SECONDS), path, prefix], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    lat = sorted(result["latencies"])
    ok = sum(1 for s in result["statuses"] if s in (200, 201))
    failed = Counter(str(s) for s in result["statuses"] if s not in (200, 201))
    if failed:
        print(f"  {path}: answers other than 200/201: {dict(failed)}", flush=True)
    warm = sorted(result["warm"]) or lat
    return {"n": len(lat), "ok": ok, "p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99) - 1],
            "p99_warm": warm[int(len(warm) * 0.99) - 1],
            "achieved": len(lat) / result["elapsed"], "cpu": (_proc_cpu(api_pid) - api_cpu) / len(lat),
            "client_cpu": result["cpu"] / len(lat), "client_busy": result["cpu"] / result["elapsed"]}


async def measure_import(infra, settings) -> tuple:
    tenant_id, key = await seed_tenant(infra)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "invoices.ndjson"
        write_ndjson(path)
        copy = await raw_copy_rate(infra, path)
        committed, published, on_topic = await import_rate(infra, settings, tenant_id, path)
    return key, copy, committed, published, on_topic


def main() -> None:
    from rapport_shared.migrations import upgrade_head
    from rapport_shared.testing.infra import create_slice, destroy_slice

    from rapport_ingest.config import Settings

    infra = create_slice(REPO)  # creates topics with its own event loop, so before ours
    try:
        upgrade_head(REPO / "services/ingest/migrations", infra.database_url("ingest"), "ingest")
        settings = Settings(**infra.settings_overrides("ingest"))
        if POST_ONLY:
            print(f"ingest bench, POST phase alone on a fresh slice (RAPPORT_BENCH_POST_ONLY)", flush=True)
            _, key = asyncio.run(seed_tenant(infra))
            report_latency("fresh slice, no bulk phase before", post_latency(infra, key, "F"))
            return
        print(f"ingest bench (scale {SCALE}: {INVOICES:,} invoices, chunks of {CHUNK:,})", flush=True)
        key, copy, committed, published, on_topic = asyncio.run(measure_import(infra, settings))
        report_import(copy, committed, published, on_topic)
        asyncio.run(report_stage_costs(infra, settings))
        asyncio.run(report_payment_import(infra, settings))
        if os.environ.get("RAPPORT_BENCH_SKIP_POST", "") not in ("", "0"):
            return
        report_latency("right after the bulk phase (its vacuum/analyze debt included)", post_latency(infra, key, "P"))
        asyncio.run(vacuum_analyze(infra))
        report_latency("steady state: after VACUUM ANALYZE of the ingest schema", post_latency(infra, key, "S"))
    finally:
        destroy_slice(infra)


async def vacuum_analyze(infra) -> None:
    conn = await asyncpg.connect(pg_url(infra))
    try:
        started = time.perf_counter()
        for table in ("invoices", "outbox", "customers", "import_jobs", "import_errors"):
            await conn.execute(f"VACUUM (ANALYZE) ingest.{table}")
        print(f"  VACUUM ANALYZE of ingest.invoices/outbox/customers/import_jobs/import_errors:"
              f" {time.perf_counter() - started:.1f}s", flush=True)
    finally:
        await conn.close()


def report_latency(label: str, latencies: dict) -> None:
    print(f"  latency, {label}:")
    for path in ("/healthz", "/v1/invoices"):
        r = latencies[path]
        print(f"  {'POST' if path.startswith('/v1') else 'GET '} {path:<14} at {POST_RATE} req/s for {POST_SECONDS:.0f}s"
              f"  p50 {r['p50'] * 1000:6.1f} ms  p99 {r['p99'] * 1000:6.1f} ms (after the first second"
              f" {r['p99_warm'] * 1000:.1f} ms)   ({r['ok']}/{r['n']} ok,"
              f" achieved {r['achieved']:.0f} req/s; API CPU {r['cpu'] * 1000:.2f} ms per request; load generator"
              f" CPU {r['client_cpu'] * 1000:.2f} ms per request, busy {r['client_busy']:.0%} of a core)")
    post, health = latencies["/v1/invoices"], latencies["/healthz"]
    print(f"  POST p99 / healthz p99 on the same worker: {post['p99'] / health['p99']:.1f}x;"
          f" autovacuum in the slice meanwhile: {latencies['autovacuum']}", flush=True)
    print(f"  POST pool connections sampled during the POST run: {latencies['pool']}", flush=True)


STAGE_SAMPLE = min(INVOICES, 20_000)
PAYMENTS = max(2000, int(50_000 * SCALE))  # the payment import phase: a bank file of this many payments
PAYMENTS_ONE_BY_ONE = min(PAYMENTS, 1000)  # the API's handler row by row, for reference


class _MeteredDriver:
    """The asyncpg connection, counting this process's CPU in COPY and the backend's CPU in every call."""

    def __init__(self, conn, backend_pid: int) -> None:
        self._conn, self._pid = conn, backend_pid
        self.copy_cpu = self.backend_cpu = 0.0
        self.backend_by_call: dict[str, float] = {}

    def _backend(self) -> float:  # 0 when Postgres runs on another machine
        return _proc_cpu(self._pid)

    def __getattr__(self, name):
        method = getattr(self._conn, name)

        async def metered(*args, **kwargs):
            cpu, backend = time.process_time(), self._backend()
            result = await method(*args, **kwargs)
            if name in ("copy_records_to_table", "copy_to_table"):
                self.copy_cpu += time.process_time() - cpu
            spent = self._backend() - backend
            self.backend_cpu += spent
            self.backend_by_call[name] = self.backend_by_call.get(name, 0.0) + spent
            return result
        return metered


async def report_stage_costs(infra, settings) -> None:
    """CPU per row of each stage, run one after the other (no overlap) on a sample of the same rows."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from rapport_shared.db import make_engine
    from rapport_shared.time import SystemClock

    from rapport_ingest.bootstrap import make_outbox
    from rapport_ingest.domain.presets import preset_for
    from rapport_ingest.domain.rows import parse_lines
    from rapport_ingest.service_layer.imports import _driver
    from rapport_ingest.service_layer.invoice_import import InvoiceWriter, prepare
    from rapport_ingest.service_layer.unit_of_work import UnitOfWork

    tenant_id, _ = await seed_tenant(infra)
    engine = make_engine(settings.database_url, pool_size=1)
    job_id = await _job(engine, tenant_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.ndjson"
        write_ndjson(path, STAGE_SAMPLE)
        cpu = time.process_time()
        with path.open("rb") as lines:
            records = list(parse_lines(lines, "ndjson"))
    parse, cpu = time.process_time() - cpu, time.process_time()
    prepared = prepare(records, preset_for("native", "invoices"))
    validate = time.process_time() - cpu
    async with engine.begin() as conn:
        driver = await _driver(conn)
        metered = _MeteredDriver(driver, await driver.fetchval("SELECT pg_backend_pid()"))
        uow = UnitOfWork(AsyncSession(bind=conn), tenant_id, make_outbox(settings), SystemClock())
        cpu = time.process_time()
        await InvoiceWriter(tenant_id, job_id, infra.topic("invoice")).write(metered, uow, prepared, SystemClock().now())
        write = time.process_time() - cpu
    await engine.dispose()
    per_row = {"parse NDJSON (orjson)": parse, "validate rows": validate,
               "build ledger rows + events (+ COPY text)": write - metered.copy_cpu,
               "COPY send + outbox binary encoding": metered.copy_cpu,
               "Postgres backend (lookup + COPY x2)": metered.backend_cpu}
    print(f"  CPU per row by stage ({STAGE_SAMPLE:,} rows, one stage after the other):")
    for stage, seconds in per_row.items():
        print(f"    {stage:<38} {1e6 * seconds / STAGE_SAMPLE:6.1f} us")
    print("      of which " + ", ".join(f"{name} {1e6 * seconds / STAGE_SAMPLE:.1f} us"
                                       for name, seconds in metered.backend_by_call.items()))


async def report_payment_import(infra, settings) -> None:
    """A bank file of payments (remittance naming an invoice, an exact amount, or neither) against a fresh
    tenant's open invoices, through the import worker's path; beside the API's handler row by row."""
    from rapport_shared.db import make_engine
    from rapport_shared.contracts.catalogue import TopicNames
    from rapport_shared.time import SystemClock

    from rapport_ingest.bootstrap import make_outbox
    from rapport_ingest.domain.presets import preset_for
    from rapport_ingest.domain.rows import parse_lines
    from rapport_ingest.service_layer import imports, payment_import
    from rapport_ingest.service_layer.imports import ChunkImporter

    engine = make_engine(settings.database_url, pool_size=2)
    importer = ChunkImporter(engine, make_outbox(settings), TopicNames(settings.topic_prefix), SystemClock(),
                             settings.import_chunk_rows)
    rng = random.Random(11)
    rates = {}
    for label, count, one_by_one in (("set-based (payment_import)", PAYMENTS, False),
                                     ("API handler row by row (reference)", PAYMENTS_ONE_BY_ONE, True)):
        tenant_id, _ = await seed_tenant(infra)
        invoices = [(f"PB-{i:07d}", f"CUST-{rng.randrange(CUSTOMERS):04d}", rng.randrange(100, 500_000) / 100)
                    for i in range(count * 2)]
        lines = [orjson.dumps({"number": n, "customer_external_id": c, "issue_date": "2026-01-01",
                               "due_date": "2026-01-31", "currency": "USD", "amount": f"{a:.2f}"}) for n, c, a in invoices]
        await importer.run(await _job(engine, tenant_id), tenant_id, "invoices", preset_for("native", "invoices"),
                           parse_lines(iter(lines), "ndjson"))
        payments = []
        for i in range(count):
            number, customer, amount = rng.choice(invoices)
            row = {"external_id": f"BANK-{i:07d}", "customer_external_id": customer, "currency": "USD",
                   "received_on": "2026-02-10", "amount": f"{min(amount, rng.randrange(100, 300_000) / 100):.2f}"}
            pick = rng.random()
            if pick < 0.5:
                row["remittance_text"] = f"Payment for invoice {number}, thank you"
            elif pick < 0.8:
                row["amount"] = f"{amount:.2f}"
            payments.append(orjson.dumps(row))
        real = payment_import.import_payments
        if one_by_one:
            async def by_api(uow, commands, errors):
                return await imports._one_by_one(uow, "payments", commands, errors)
            payment_import.import_payments = by_api
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            await importer.run(await _job(engine, tenant_id), tenant_id, "payments", preset_for("native", "payments"),
                               parse_lines(iter(payments), "ndjson"))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            payment_import.import_payments = real
        async with engine.connect() as conn:
            allocated = (await conn.exec_driver_sql(
                "SELECT count(*) FROM ingest.allocations WHERE tenant_id = %s" % f"'{tenant_id}'")).scalar_one()
        rates[label] = count / wall
        print(f"  payment import, {label}: {count:,} payments in {wall:.1f}s = {count / wall:,.0f} payments/s,"
              f" {1e6 * cpu / count:,.0f} us importer CPU per payment, {allocated:,} allocations", flush=True)
    await engine.dispose()
    set_based, reference = rates.values()
    print(f"  payment import set-based / row by row: {set_based / reference:.1f}x", flush=True)


def report_import(copy: float, committed: float, published: float, on_topic: int) -> None:
    print(f"  raw COPY of the same rows (parse + COPY)     {copy:>10,.0f} rows/s   (reference)")
    print(f"  import committed to the ledger + outbox      {committed:>10,.0f} inv/s    ratio to COPY {committed / copy:.2f}")
    print(f"  import committed AND published to Kafka      {published:>10,.0f} inv/s    ratio to COPY {published / copy:.2f}"
          f"   target {TARGET_RATE:,}/s ({published / TARGET_RATE:.0%} of target)")
    print(f"  events on the invoice topic                  {on_topic:>10,}          expected {INVOICES:,}", flush=True)


if __name__ == "__main__":
    main()
