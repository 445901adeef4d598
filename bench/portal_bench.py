"""Portal benchmark: the invoice list of a customer with 200 invoices, on one uvicorn worker.

Starts ``rapport-portal api`` (one worker) on a fresh slice of the running infrastructure,
seeds one customer with 200 invoices through the read model's own event handler, and drives
it from a *second process* on loopback with a small open-loop load generator (raw asyncio
HTTP/1.1 keep-alive connections; latency is measured from each request's scheduled send time,
so a slow server cannot hide queueing). Prints p50/p99 at the target rate beside the 25 ms
reference, the list's saturated rate beside the same worker's ``/healthz`` rate, and the CPU each
request costs the API worker, its Postgres backends and the load generator (from /proc: the figures
that stay meaningful when the machine is busy). About 2 minutes at scale 1.0.

    .venv/bin/python bench/portal_bench.py            # RAPPORT_BENCH_SCALE=0.05 for a quick run
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from rapport_shared.testing.ports import free_port

REPO = Path(__file__).resolve().parents[1]
SCALE = float(os.environ.get("RAPPORT_BENCH_SCALE", "1.0"))
TARGET_RPS = 500
P99_REFERENCE_MS = 25.0
OPEN_LOOP_S = max(3.0, 20.0 * SCALE)
SATURATE_S = max(2.0, 8.0 * SCALE)
INVOICES = 200
GRACE_S = 10.0


# ---------------------------------------------------------------- load generator (second process)
async def _connect(host: str, port: int):
    reader, writer = await asyncio.open_connection(host, port)
    writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def _request(conn, raw: bytes) -> int:
    reader, writer = conn
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    await reader.readexactly(length)
    return status


async def _request_on(pool: list, slot: int, host: str, port: int, raw: bytes) -> int:
    """Send on a pooled keep-alive connection; reopen it once if the server closed it while idle."""
    try:
        return await _request(pool[slot], raw)
    except (asyncio.IncompleteReadError, ConnectionError):
        pool[slot][1].close()
        pool[slot] = await _connect(host, port)
        return await _request(pool[slot], raw)


def _raw(host: str, port: int, path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}Connection: keep-alive\r\n\r\n".encode()


async def open_loop(host: str, port: int, raw: bytes, rate: float, seconds: float) -> dict:
    """Send at a fixed rate whatever the server does; a request waits for a free connection if needed."""
    conns = [await _connect(host, port) for _ in range(32)]
    pool: asyncio.Queue = asyncio.Queue()
    for slot in range(len(conns)):
        pool.put_nowait(slot)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    total = int(rate * seconds)

    async def one(scheduled: float) -> None:
        nonlocal errors
        slot = await pool.get()
        try:
            status = await _request_on(conns, slot, host, port, raw)
            errors += status != 200
        finally:
            pool.put_nowait(slot)
        latencies.append(loop.time() - scheduled)

    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    # A server that cannot keep up would make this run for ever: unanswered requests after a grace
    # period count with their waiting time so far (a lower bound), and as unfinished.
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, start + seconds + GRACE_S - loop.time()))
    finished = len(latencies)
    latencies.extend(loop.time() - (start + n / rate) for n in range(total - len(pending), total))
    for task in pending:
        task.cancel()
    elapsed = loop.time() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"sent": total, "done": finished, "achieved_rps": finished / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "max_ms": latencies[-1] * 1000, "errors": errors, "unfinished": len(pending)}


async def saturate(host: str, port: int, raw: bytes, seconds: float, concurrency: int = 16) -> dict:
    """Closed loop: as fast as one worker answers with ``concurrency`` requests in flight."""
    done = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, errors
        conn = await _connect(host, port)
        while time.perf_counter() < deadline:
            errors += await _request(conn, raw) != 200
            done += 1
        conn[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"rps": done / (time.perf_counter() - started), "errors": errors, "done": done}


def load_main(args: list[str]) -> None:
    mode, host, port, path, token, rate, seconds = args
    raw = _raw(host, int(port), path, token if token != "-" else None)
    import uvloop  # the generator must not be the bottleneck: the cheapest event loop available

    started = time.process_time()
    if mode == "open":
        result = uvloop.run(open_loop(host, int(port), raw, float(rate), float(seconds)))
    else:
        result = uvloop.run(saturate(host, int(port), raw, float(seconds)))
    result["loadgen_cpu_us"] = (time.process_time() - started) / max(1, result["done"]) * 1e6
    print(json.dumps(result))


def drive(mode: str, port: int, path: str, token: str | None, rate: float, seconds: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--load", mode, "127.0.0.1", str(port), path, token or "-",
                          str(rate), str(seconds)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- set-up (this process)
async def seed(settings) -> str:
    """One customer with 200 invoices through the consumer's handler; returns a session token."""
    from rapport_shared.contracts.customer import ContactUpsertedV1, CustomerUpsertedV1
    from rapport_shared.contracts.envelope import make_event
    from rapport_shared.contracts.invoice import InvoiceIssuedV1
    from rapport_shared.db import make_engine

    from rapport_portal.bootstrap import build_portal, handle
    from rapport_portal.service_layer import auth

    engine = make_engine(settings.database_url, pool_size=2)
    portal = build_portal(settings, engine)
    tenant, customer, contact = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    today = date.today()
    payloads = [CustomerUpsertedV1(customer_id=customer, external_id="BENCH", name="Bench Buyer Ltd", currency="USD"),
                ContactUpsertedV1(contact_id=contact, customer_id=customer, name="AP", email="ap@bench.test")]
    payloads += [InvoiceIssuedV1(
        invoice_id=uuid.uuid4(), customer_id=customer, number=f"INV-{n:05d}", po_number=f"PO-{n % 40}",
        issue_date=today - timedelta(days=200 - n), due_date=today - timedelta(days=170 - n), currency="USD",
        amount_total=Decimal("1234.56"), open_amount=Decimal("1234.56") if n % 3 else Decimal("0"),
        status="open" if n % 3 else "paid") for n in range(INVOICES)]
    async with portal.unit_of_work() as session:
        for payload in payloads:
            await handle(session, make_event(payload, source="bench", tenant_id=tenant, customer_key=customer))
    token, _, _ = await auth.admin_mint_link(portal, tenant, contact)
    new = await auth.exchange(portal, token, "bench")
    await engine.dispose()
    return new.token




def wait_ready(port: int, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("portal-api did not start")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """user+system CPU of each process so far (from /proc): cost per request without trusting wall-clock on a busy host."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return seconds


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    # Backends opened during the run count from zero; one that closed meanwhile is lost (rare: pooled).
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def postgres_backends(database_url: str) -> list[int]:
    """Pids of the Postgres backends serving the API (same host): their CPU is part of each request's cost."""
    import psycopg

    from rapport_shared.db import to_sync_url

    url = to_sync_url(database_url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND usename = current_user AND pid <> pg_backend_pid()").fetchall()
    return [r[0] for r in rows]


def costed(mode: str, port: int, path: str, token: str | None, rate: float, seconds: float,
           api_pid: int, database_url: str) -> dict:
    """Drive the load and add the server's CPU per answered request (API process and its Postgres backends)."""
    api0, pg0 = cpu_seconds([api_pid]), cpu_seconds(postgres_backends(database_url))
    result = drive(mode, port, path, token, rate, seconds)
    answered = max(1, result["done"])
    result["api_cpu_us"] = cpu_spent(api0, cpu_seconds([api_pid])) / answered * 1e6
    result["pg_cpu_us"] = cpu_spent(pg0, cpu_seconds(postgres_backends(database_url))) / answered * 1e6
    return result


def line(name: str, value: float, unit: str, reference: float, ref_name: str) -> None:
    print(f"{name:<52} {value:>9.1f} {unit:<5}  reference {reference:>8.1f} {unit:<5} ({ref_name})  ratio {value / reference:5.2f}")


def run() -> None:
    from rapport_shared.migrations import upgrade_head
    from rapport_shared.testing.infra import create_slice, destroy_slice

    from rapport_portal.config import Settings

    infra = create_slice(REPO)
    api = None
    try:
        upgrade_head(REPO / "services/portal-api/migrations", infra.database_url("portal-api"), "portal")
        token = asyncio.run(seed(Settings(**infra.settings_overrides("portal-api"))))
        port = free_port()
        api = subprocess.Popen([str(Path(sys.executable).parent / "rapport-portal"), "api"],
                               env=infra.env(RAPPORT_PORTAL_HTTP_PORT=str(port), RAPPORT_LOG_LEVEL="WARNING"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(port)
        report(port, token, api.pid, infra.database_url("portal-api"))
    finally:
        if api:
            api.terminate()
            api.wait(timeout=30)
        destroy_slice(infra)


def report(port: int, token: str, api_pid: int, database_url: str) -> None:
    page, full = "/v1/invoices?status=all", f"/v1/invoices?status=all&limit={INVOICES}"
    drive("open", port, page, token, 100, 2)  # warm-up: connections, caches, JIT-less Python paths
    health = costed("saturate", port, "/healthz", None, 0, SATURATE_S, api_pid, database_url)
    listing = costed("saturate", port, page, token, 0, SATURATE_S, api_pid, database_url)
    print(f"portal-api bench: one uvicorn worker, customer with {INVOICES} invoices, load from a second process "
          f"(asyncio open-loop generator), scale {SCALE}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    line("invoice list (page of 50) saturated rate [req/s]", listing["rps"], "req/s", health["rps"], "/healthz same worker")
    cpu("/healthz", health)
    cpu("invoice list (page of 50), saturated", listing)
    for label, path in (("page of 50", page), (f"all {INVOICES}", full)):
        result = costed("open", port, path, token, TARGET_RPS, OPEN_LOOP_S, api_pid, database_url)
        line(f"invoice list ({label}) p99 at {TARGET_RPS} req/s [ms]", result["p99_ms"], "ms", P99_REFERENCE_MS, "target p99")
        print(f"{'':<52} p50 {result['p50_ms']:.1f} ms, max {result['max_ms']:.1f} ms, achieved "
              f"{result['achieved_rps']:.0f} req/s, errors {result['errors']}, unfinished {result['unfinished']}")
        cpu(f"invoice list ({label}) at {TARGET_RPS} req/s", result)


def cpu(label: str, result: dict) -> None:
    # 1e6 / (api + pg) is the rate one quiet core per process could sustain: the figure to compare with 500.
    print(f"  CPU per request, {label}: API worker {result['api_cpu_us']:.0f} us, its Postgres backends "
          f"{result['pg_cpu_us']:.0f} us -> one core sustains ~{1e6 / max(1.0, result['api_cpu_us']):.0f} req/s "
          f"(load generator {result['loadgen_cpu_us']:.0f} us, in its own process)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        load_main(sys.argv[2:])
    else:
        run()
