"""Outreach benchmark: messages rendered and handed to provider fakes per second, and render latency.

    .venv/bin/python bench/outreach_bench.py        # RAPPORT_BENCH_SCALE=0.05 for a quick run

Figures (one process; the provider fakes run in their own process, as a real API would; SendGrid and
Twilio calls go over pooled keep-alive connections on the event loop, no worker threads). The fakes are
lean httptools servers that still check every request; their CPU per request is printed beside the
sender's CPU per message, since on a 2-core machine both come out of the same two cores:
  * render latency p50/p99 of one message (template choice, signed portal link, Babel money/dates, Jinja);
  * messages/s rendered and handed to the SendGrid SDK against the local SendGrid fake,
    beside the same pipeline with a no-op provider (raw rate) and their ratio;
  * the same for SMS through the Twilio SDK, and for the local .eml sink;
  * the full path on a private database: touchpoints queued by the consumer handler, then drained
    by the sender (claim with SKIP LOCKED, provider call, result + outbox event) to the SendGrid fake.
"""
from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
import urllib.request
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import uvloop

from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.touchpoint import Collector, CustomerRef, Recipient, TouchInvoice, TouchpointDueV1
from rapport_shared.time import SystemClock
from rapport_shared.testing.ports import free_port

from rapport_outreach.adapters.providers.http_pool import HttpPool
from rapport_outreach.adapters.providers.sendgrid import SendGridProvider
from rapport_outreach.adapters.providers.sink import NoopProvider, SinkProvider
from rapport_outreach.adapters.providers.twilio import TwilioSmsProvider
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.compose import Composer
from rapport_outreach.testing.provider_fakes import SendGridFake, TwilioFake, serve_forever

REPO = Path(__file__).resolve().parents[1]
SCALE = float(os.environ.get("RAPPORT_BENCH_SCALE", "1.0"))
MESSAGES = max(200, int(20_000 * SCALE))
RENDERS = max(10_000, MESSAGES)  # p99 needs enough samples to mean something
CONCURRENCY = 32
WARM = 20  # messages sent through each provider before the clock starts
TARGET_RATE = 1000.0
TARGET_P99_MS = 5.0
KEYS = ("pre_due_friendly", "due_today", "overdue_gentle", "overdue_firm", "final_notice", "promise_reminder")
LOCALES = ("en", "fr", "de", "es")
TONES = ("friendly", "neutral", "firm", "final")
CPU_RATES: dict[str, float] = {}  # messages per CPU-second of this process, per pipeline


def touchpoints(n: int) -> list[TouchpointDueV1]:
    out = []
    for i in range(n):
        invoices = [TouchInvoice(invoice_id=uuid.uuid4(), number=f"INV-{i}-{k}", issue_date=date(2026, 1, 1 + k),
                                 due_date=date(2026, 2, 1 + k), currency="EUR", amount_total=Decimal("1200.50") + k,
                                 open_amount=Decimal("950.25") + k, days_overdue=10 + k) for k in range(1 + i % 4)]
        out.append(TouchpointDueV1(
            touchpoint_id=uuid.uuid4(), customer=CustomerRef(customer_id=uuid.uuid4(), name=f"Customer {i} GmbH"),
            recipient=Recipient(contact_id=uuid.uuid4(), name=f"Contact {i}", email=f"ap{i}@bench.example",
                                phone=f"+3361{i:07d}", locale=LOCALES[i % 4]),
            channel="email", template_key=KEYS[i % len(KEYS)], tone=TONES[i % 4], stage="overdue",
            step_offset_days=7, currency="EUR", total_open=sum((v.open_amount for v in invoices), Decimal(0)),
            invoices=invoices, collector=Collector(name="Camille Martin", email="camille@acme.example"),
            promised_date=date(2026, 3, 1), early_pay_discount_percent=Decimal("2") if i % 5 == 0 else None))
    return out


def composer() -> Composer:
    return Composer("bench-secret", "http://127.0.0.1:8005", 14, "Acme Supplies", SystemClock(), 4)


def render_latency(tps: list[TouchpointDueV1], comp: Composer) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per render (on a shared machine the two differ by preemption)."""
    tenant = uuid.uuid4()
    wall, cpu = [], []
    for i in range(RENDERS):
        tp = tps[i % len(tps)]
        started, started_cpu = time.perf_counter(), time.thread_time()
        comp.draft(tenant, tp, "email", tp.recipient.email, [])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return wall, cpu


async def pipeline(tps: list[TouchpointDueV1], comp: Composer, provider, channel: str) -> float:
    """Render each message and hand it to ``provider`` with CONCURRENCY in flight; returns messages/s."""
    tenant = uuid.uuid4()
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(tp: TouchpointDueV1) -> None:
        # Render inside the slot: rendering all messages up front would starve the event loop, and
        # the first requests' answers would wait behind thousands of renders (timing out at scale 1).
        async with slots:
            address = tp.recipient.email if channel == "email" else tp.recipient.phone
            draft = comp.draft(tenant, tp, channel, address, [])
            message = Outgoing(uuid.uuid4(), tenant, channel, draft.to_address, draft.subject, draft.body_text,
                               draft.body_html, template_key=tp.template_key, to_name=tp.recipient.name)
            await provider.send(message)

    await asyncio.gather(*(one(tp) for tp in tps[:WARM]))  # first calls import the SDK's lazy modules
    started, started_cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(tp) for tp in tps))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    CPU_RATES[f"{channel}:{getattr(provider, 'name', '?')}"] = len(tps) / max(cpu, 1e-9)
    return len(tps) / elapsed




def start_fake(kind: str) -> tuple[multiprocessing.Process, str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=serve_forever, args=(kind, port), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/__stats", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{kind} fake did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (Linux /proc), to show what the fake costs per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(url: str) -> dict:
    return json.loads(urllib.request.urlopen(f"{url}/__stats", timeout=5).read())


def line(name: str, value: float, reference: float, unit: str, reference_name: str) -> None:
    print(f"  {name:<52} {value:>10.1f} {unit:<6} vs {reference_name} {reference:>10.1f} {unit:<6} "
          f"ratio {value / reference:5.2f}")


async def provider_figures(tps: list[TouchpointDueV1], comp: Composer) -> None:
    noop = await pipeline(tps, comp, NoopProvider(), "email")
    print(f"  {'raw rate: render + no-op provider':<52} {noop:>10.1f} msg/s")
    sg_proc, sg_url = start_fake("sendgrid")
    tw_proc, tw_url = start_fake("twilio")
    sink_dir = Path(tempfile.mkdtemp(prefix="rapport-bench-sink-"))
    pool = HttpPool(limit=CONCURRENCY)
    try:
        sendgrid = SendGridProvider(SendGridFake.api_key, sg_url, "ar@acme.example", "Acme", asm_group_id=1,
                                    reply_domain="replies.acme.example", timeout_s=10, pool=pool)
        fake_cpu = cpu_seconds(sg_proc.pid)
        rate = await pipeline(tps, comp, sendgrid, "email")
        fake_ms = (cpu_seconds(sg_proc.pid) - fake_cpu) / (len(tps) + WARM) * 1000
        line("email: render + SendGrid SDK -> SendGrid fake", rate, noop, "msg/s", "no-op")
        line("       ... against the issue's target", rate, TARGET_RATE, "msg/s", "target")
        print(f"  {'       the SendGrid fake itself (its own process)':<52} {fake_ms:>10.2f} ms CPU/request")
        sg = stats(sg_url)
        assert sg["accepted"] == len(tps) + WARM and sg["invalid"] == 0 and sg["distinct"] == len(tps) + WARM, sg
        twilio = TwilioSmsProvider(TwilioFake.account_sid, TwilioFake.auth_token, TwilioFake.service_sid, tw_url,
                                   "http://127.0.0.1:8003/webhooks/twilio/status", timeout_s=10, pool=pool)
        sms_tps = tps[: max(100, len(tps) // 8)]
        fake_cpu = cpu_seconds(tw_proc.pid)
        rate = await pipeline(sms_tps, comp, twilio, "sms")
        tw_fake_ms = (cpu_seconds(tw_proc.pid) - fake_cpu) / (len(sms_tps) + WARM) * 1000
        line("sms: render + Twilio SDK -> Twilio fake", rate, noop, "msg/s", "no-op")
        print(f"  {'       the Twilio fake itself (its own process)':<52} {tw_fake_ms:>10.2f} ms CPU/request")
        tw = stats(tw_url)
        assert tw["accepted"] == len(sms_tps) + WARM and tw["invalid"] == 0, tw
        sink_tps = tps[: max(100, len(tps) // 10)]  # files on a shared disk: a smaller sample
        rate = await pipeline(sink_tps, comp, SinkProvider(sink_dir, "ar@acme.example", "Acme"), "email")
        line("email: render + local .eml sink", rate, noop, "msg/s", "no-op")
    finally:
        await pool.close()
        sg_proc.terminate(), tw_proc.terminate()
        shutil.rmtree(sink_dir, ignore_errors=True)


async def sender_figures(n: int) -> None:
    """The full path twice on a private database slice: once to a no-op provider, once to the SendGrid fake."""
    from rapport_shared.testing.infra import create_slice, destroy_slice

    slice_ = await asyncio.to_thread(create_slice, REPO)  # it runs its own event loop
    sg_proc, sg_url = start_fake("sendgrid")
    try:
        noop = await sender_run(slice_, n, "noop", sg_url)
        sendgrid = await sender_run(slice_, n, "sendgrid", sg_url)
        line("sender: claim -> SendGrid fake -> record + event", sendgrid, noop, "msg/s", "no-op")
        line("       ... against the issue's target", sendgrid, TARGET_RATE, "msg/s", "target")
        assert stats(sg_url)["accepted"] == n
    finally:
        sg_proc.terminate()
        await asyncio.to_thread(destroy_slice, slice_)


async def sender_run(slice_, n: int, provider: str, sg_url: str) -> float:  # noqa: ANN001
    """Queue n touchpoints through the consumer handler, drain them with the sender; prints CPU and SQL per message."""
    """The full path on a private database slice: consumer handler, then the sender, to the SendGrid fake."""
    from sqlalchemy import event

    from rapport_shared.db import make_engine, make_session_factory
    from rapport_shared.migrations import upgrade_head

    from rapport_outreach import bootstrap
    from rapport_outreach.config import Settings

    upgrade_head(REPO / "services/outreach/migrations", slice_.database_url("outreach"), "outreach")
    settings = Settings(**slice_.settings_overrides("outreach"), email_provider=provider,
                        sendgrid_api_key=SendGridFake.api_key, sendgrid_base_url=sg_url,
                        sender_batch_size=200, sender_concurrency=CONCURRENCY, provider_rate_per_s=100_000,
                        provider_burst=1000)
    engine = make_engine(settings.database_url, pool_size=4)
    statements = [0]
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    count_driver_statements(statements)
    sessions = make_session_factory(engine)
    deps = bootstrap.build_deps(settings)
    handle = bootstrap.make_handler(deps)
    tenant = uuid.uuid4()
    envelopes = [make_event(tp, source="bench", tenant_id=tenant, customer_key=tp.customer.customer_id)
                 for tp in touchpoints(n)]
    started, cpu, statements[0] = time.perf_counter(), time.process_time(), 0
    for i in range(0, n, 100):
        async with sessions() as session, session.begin():
            for envelope in envelopes[i:i + 100]:
                await handle(session, envelope)
    queued, queue_cpu, queue_sql = n / (time.perf_counter() - started), time.process_time() - cpu, statements[0]
    sender = bootstrap.build_sender(settings, sessions, deps)
    started, cpu, statements[0] = time.perf_counter(), time.process_time(), 0
    while await sender.run_once():
        pass
    drained, send_cpu, send_sql = n / (time.perf_counter() - started), time.process_time() - cpu, statements[0]
    await deps.registry.aclose()
    await engine.dispose()
    print(f"  {'consumer handler: touchpoint -> queued row (' + provider + ')':<52} {queued:>10.1f} msg/s  "
          f"{queue_cpu / n * 1000:.2f} ms CPU/msg  {queue_sql / n:.1f} SQL/msg")
    print(f"  {'sender: claim -> ' + provider + ' -> record + event':<52} {drained:>10.1f} msg/s  "
          f"{send_cpu / n * 1000:.2f} ms CPU/msg  {send_sql / n:.2f} SQL/msg  ({n / send_cpu:.0f} msg per CPU-s)")
    return drained


class _CountedDriver:
    """The asyncpg connection the repository uses directly, counting its statements for the SQL/msg figure."""

    def __init__(self, driver, statements: list[int]) -> None:  # noqa: ANN001 - an asyncpg Connection
        self._driver, self._statements = driver, statements

    def __getattr__(self, name: str):  # noqa: ANN204
        attribute = getattr(self._driver, name)
        if name in ("fetch", "fetchrow", "fetchval", "execute"):
            self._statements[0] += 1
        return attribute


def count_driver_statements(statements: list[int]) -> None:
    """Statements the repository sends straight through asyncpg bypass SQLAlchemy's events; count them too."""
    from rapport_outreach.adapters import repository

    original = getattr(repository, "_original_driver", repository._driver)
    repository._original_driver = original

    async def counted(session):  # noqa: ANN001, ANN202
        driver = await original(session)
        return None if driver is None else _CountedDriver(driver, statements)

    repository._driver = counted


async def main() -> None:
    tps = touchpoints(MESSAGES)
    comp = composer()
    comp.warm_up()
    gc.freeze()  # as the workers do after warm-up: long-lived objects leave the collector's scans
    print(f"outreach bench: {MESSAGES} messages, {RENDERS} renders, scale {SCALE}, concurrency {CONCURRENCY}")
    wall, cpu = render_latency(tps, comp)
    print(f"  {'render p50 (wall clock / CPU)':<52} {statistics.median(wall):>10.3f} ms / "
          f"{statistics.median(cpu):.3f} ms")
    line("render p99 (wall clock; target < 5 ms)", statistics.quantiles(wall, n=100)[98], TARGET_P99_MS, "ms",
         "target")
    line("render p99 (CPU time of the rendering thread)", statistics.quantiles(cpu, n=100)[98], TARGET_P99_MS, "ms",
         "target")
    print(f"  load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    await provider_figures(tps, comp)
    print("  messages per CPU-second of this process (what one process does with a core of its own):")
    for name, rate in CPU_RATES.items():
        line(f"    {name}", rate, TARGET_RATE, "msg/s", "target")
        print(f"  {'':<52} {1000 / rate:>10.3f} ms CPU/msg")
    await sender_figures(max(400, MESSAGES // 4))


if __name__ == "__main__":
    uvloop.run(main())  # the sender runs on uvloop too
